// `npm run token -- create --role approver --name oncall-laptop` | `list` | `revoke --name NAME`.
// The token is printed once, at creation; only its sha256 is stored.
import { parseArgs } from "node:util";
import { listTokens, revokeToken, createToken, ROLES, type Role } from "@gdr/core/auth/tokens";
import { createPrisma } from "@gdr/core/db/client";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { role: { type: "string" }, name: { type: "string" } } });
const databaseUrl = process.env["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/guardduty_responder";
const prisma = createPrisma(databaseUrl, { poolSize: 1 });
try {
  switch (positionals[0]) {
    case "create": {
      const role = ROLES.find((r) => r === values.role);
      if (!role || !values.name) throw new Error(`create needs --name NAME and --role ${ROLES.join("|")}`);
      const { token } = await createToken(prisma, values.name, role satisfies Role);
      console.log(`created ${role} token "${values.name}". It is shown once; store it now:\n${token}`);
      break;
    }
    case "list":
      for (const t of await listTokens(prisma)) {
        console.log(`${t.name.padEnd(24)} ${t.role.padEnd(8)} created ${t.createdAt.toISOString()}  last used ${t.lastUsedAt?.toISOString() ?? "never"}${t.revokedAt ? `  REVOKED ${t.revokedAt.toISOString()}` : ""}`);
      }
      break;
    case "revoke":
      if (!values.name) throw new Error("revoke needs --name NAME");
      console.log((await revokeToken(prisma, values.name)) ? `revoked "${values.name}"` : `no active token named "${values.name}"`);
      break;
    default:
      throw new Error("usage: npm run token -- create --role viewer|approver|admin --name NAME | list | revoke --name NAME");
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 2;
} finally {
  await prisma.$disconnect();
}
