import { PrismaPg } from "@prisma/adapter-pg";
import type { PoolClient } from "pg";

/**
 * A PrismaPg whose transactions always give their connection back.
 *
 * Why: @prisma/client 6.19 ends an interactive transaction with `await executeRaw("ROLLBACK")`
 * (or COMMIT) and only then `await transaction.rollback()`, without a `finally`; adapter-pg 7
 * releases the pooled pg client only in `rollback()`/`commit()`. When the connection dies inside a
 * transaction (Postgres restarted, network cut), ROLLBACK throws, the client is never released,
 * the pool slowly runs dry and `$disconnect()` waits forever. Here a failed COMMIT/ROLLBACK
 * releases the client with the error (so the pool destroys it instead of reusing it), and the
 * runtime's later commit()/rollback() become no-ops. Versions are pinned exactly in
 * packages/core/package.json because this reaches into the adapter's transaction (`client`);
 * test/ingest/postgres-outage.test.ts fails if the behaviour changes.
 */
export class GuardedPrismaPg extends PrismaPg {
  override async connect(): ReturnType<PrismaPg["connect"]> {
    const adapter = await super.connect();
    const startTransaction = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (isolationLevel) => guard(await startTransaction(isolationLevel));
    return adapter;
  }
}

type Transaction = Awaited<ReturnType<Awaited<ReturnType<PrismaPg["connect"]>>["startTransaction"]>>;

const ENDS_TRANSACTION = /^\s*(COMMIT|ROLLBACK)\s*$/i;

function guard(tx: Transaction): Transaction {
  const client = (tx as unknown as { client?: PoolClient }).client;
  if (!client) throw new Error("adapter-pg transaction has no pg client: GuardedPrismaPg needs updating for this adapter version");
  let released = false;
  const executeRaw = tx.executeRaw.bind(tx);
  const commit = tx.commit.bind(tx);
  const rollback = tx.rollback.bind(tx);
  tx.executeRaw = async (query) => {
    try {
      return await executeRaw(query);
    } catch (err) {
      if (!released && ENDS_TRANSACTION.test(query.sql)) {
        released = true;
        client.release(err instanceof Error ? err : true);
      }
      throw err;
    }
  };
  tx.commit = async () => {
    if (released) return;
    released = true;
    await commit();
  };
  tx.rollback = async () => {
    if (released) return;
    released = true;
    await rollback();
  };
  return tx;
}
