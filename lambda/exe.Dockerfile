# Container image of lava-<realm>-exe: the same runner code as lava-<realm>-runner, on the
# AWS Lambda Node.js base image, with the PostgreSQL client (psql) and archive tools that
# exe and pkg payloads need. Built by `cdk deploy` (Docker needed there, not for `cdk synth`).
FROM public.ecr.aws/docker/library/node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# The validated realm, base64 (see lambda/spec/realm-bundle.ts).
ARG LAVA_REALM
RUN LAVA_REALM="$LAVA_REALM" node scripts/build-exe.mjs

FROM public.ecr.aws/lambda/nodejs:24
RUN dnf install -y postgresql16 tar gzip bzip2 xz zstd unzip && dnf clean all
COPY --from=build /src/dist-exe/ ${LAMBDA_TASK_ROOT}/
CMD ["index.handler"]
