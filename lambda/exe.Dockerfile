# Container image of lava-<realm>-exe: the same runner code as lava-<realm>-runner, on the
# AWS Lambda Node.js base image, with the PostgreSQL client (psql), the AWS CLI v2 (aws, for
# the $LAVA_CONN_<L> of aws connections) and archive tools that exe and pkg payloads need.
# Built by `cdk deploy` (Docker needed there, not for `cdk synth`).
FROM public.ecr.aws/docker/library/node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# The validated realm, base64 (see lambda/spec/realm-bundle.ts).
ARG LAVA_REALM
RUN LAVA_REALM="$LAVA_REALM" node scripts/build-exe.mjs

FROM public.ecr.aws/lambda/nodejs:24
# awscli-2 is Amazon Linux 2023's AWS CLI v2 package (the base image is AL2023): signed by the
# distribution, right for either architecture. The connectors find psql and aws on the runner's PATH.
RUN dnf install -y postgresql16 awscli-2 tar gzip bzip2 xz zstd unzip && dnf clean all \
    && psql --version && aws --version
COPY --from=build /src/dist-exe/ ${LAMBDA_TASK_ROOT}/
CMD ["index.handler"]
