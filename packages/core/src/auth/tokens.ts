import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { PrismaClient } from "@prisma/client";

export const ROLES = ["viewer", "approver", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** viewer < approver < admin: a role may do everything the roles below it may. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Tokens look like `gdr_<43 base64url chars>`: 256 random bits, recognisable in a secret scan. */
const TOKEN_PATTERN = /^gdr_[A-Za-z0-9_-]{43}$/;

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export interface TokenIdentity {
  id: string;
  name: string;
  role: Role;
}

/**
 * Creates a token: only its sha256 is stored; the token itself is returned once, to be shown once.
 * Names are unique so that a token can be revoked by the name it was given.
 */
export async function createToken(prisma: PrismaClient, name: string, role: Role): Promise<{ token: string; identity: TokenIdentity }> {
  if (!/^[\w.@:-]{1,64}$/.test(name)) throw new Error("token names are 1-64 letters, digits, and _ . @ : -");
  const token = `gdr_${randomBytes(32).toString("base64url")}`;
  const row = await prisma.apiToken.create({ data: { name, role, tokenHash: hashToken(token) } });
  return { token, identity: { id: row.id, name: row.name, role: row.role } };
}

/**
 * The identity a bearer token stands for, or null. The lookup is by hash (a unique index), and
 * the stored hash is compared again in constant time, so timing says nothing about near misses.
 */
export async function verifyToken(prisma: PrismaClient, token: string): Promise<TokenIdentity | null> {
  if (!TOKEN_PATTERN.test(token)) return null;
  const hash = hashToken(token);
  const row = await prisma.apiToken.findUnique({ where: { tokenHash: hash } });
  if (!row || row.revokedAt) return null;
  if (!timingSafeEqual(Buffer.from(row.tokenHash, "hex"), Buffer.from(hash, "hex"))) return null;
  // Best effort: a failed bookkeeping write must not fail the request.
  await prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } }).catch(() => undefined);
  return { id: row.id, name: row.name, role: row.role };
}

export async function revokeToken(prisma: PrismaClient, name: string): Promise<boolean> {
  const out = await prisma.apiToken.updateMany({ where: { name, revokedAt: null }, data: { revokedAt: new Date() } });
  return out.count > 0;
}

export async function listTokens(prisma: PrismaClient): Promise<{ name: string; role: Role; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null }[]> {
  return prisma.apiToken.findMany({
    orderBy: { createdAt: "asc" },
    select: { name: true, role: true, createdAt: true, lastUsedAt: true, revokedAt: true },
  });
}
