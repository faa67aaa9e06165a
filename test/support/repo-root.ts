import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The repository root, found from this file's own location so that any working directory works. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The moto server that scripts/ensure-moto.sh installs into the project's virtualenv. */
export const motoServerPath = join(repoRoot, ".venv", "bin", "moto_server");
