/** Where the repository is, for the CDK code that bundles or builds from it. */
import { fileURLToPath } from "node:url";

/** The repository root, with a trailing slash. */
export const REPO = fileURLToPath(new URL("..", import.meta.url));
