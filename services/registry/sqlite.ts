// What every store of services/registry/ does with the one SQLite connection: write in a transaction that
// composes with the caller's, and prepare SQL built at run time once per text rather than once per call.
import type { DatabaseSync, StatementSync } from "node:sqlite";

/**
 * Runs `fn` in one write transaction (BEGIN IMMEDIATE: the write lock is taken at once, so a concurrent writer
 * waits on busy_timeout instead of failing at COMMIT). Rolls back when `fn` throws or `keep` says no.
 * Inside a transaction already open (a store called from another's), `fn` runs in that one; `keep` is refused
 * there, since only the caller can roll its own transaction back.
 */
export function inTransaction<T>(db: DatabaseSync, fn: () => T, keep?: (result: T) => boolean): T {
  if (db.isTransaction) {
    if (keep) throw new Error("inTransaction: `keep` cannot roll back a transaction the caller opened");
    return fn();
  }
  db.exec("BEGIN IMMEDIATE");
  let result: T;
  try {
    result = fn();
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
  db.exec(!keep || keep(result) ? "COMMIT" : "ROLLBACK");
  return result;
}

/**
 * Statements for SQL built at run time, prepared at the first use of each text. The callers build their text
 * from a fixed set of parts (filters, columns), so the cache stays as small as that set's combinations.
 */
export function statementCache(db: DatabaseSync): (sql: string) => StatementSync {
  const prepared = new Map<string, StatementSync>();
  return (sql) => {
    let stmt = prepared.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      prepared.set(sql, stmt);
    }
    return stmt;
  };
}
