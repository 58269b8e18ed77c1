// PostgreSQL schema of the audit area, created and migrated by the project. Migrations are an
// ordered list applied once each under an advisory lock (many hosts may start together) and
// recorded in schema_migrations (shared with other areas by `component`). Tables are append-only:
// triggers reject UPDATE, DELETE and TRUNCATE for everyone but a superuser who disables them.
import type pg from 'pg';

export const COMPONENT = 'audit';

interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit records, checkpoints, chains; append-only triggers; query indexes',
    sql: `
CREATE TABLE audit_chains (
  chain_id    text PRIMARY KEY,
  host        text NOT NULL,
  key_id      text NOT NULL,
  public_key  text NOT NULL,
  first_seen  timestamptz NOT NULL DEFAULT now()
);

-- record is the authoritative RFC 8785 text the hash covers (text, not jsonb: jsonb reorders keys
-- and rewrites numbers). Every other column is derived from it for queries, and verify checks that.
-- time is text: timestamptz would reformat it; the writer stores fixed-width UTC ISO 8601, so text
-- order is time order.
CREATE TABLE audit_records (
  chain_id    text   NOT NULL,
  seq         bigint NOT NULL CHECK (seq >= 0),
  hash        text   NOT NULL,
  prev_hash   text   NOT NULL,
  record      text   NOT NULL,
  kind        text   NOT NULL,
  "time"      text   NOT NULL,
  host        text   NOT NULL,
  "user"      text,
  uid         bigint,
  pid         bigint,
  program     text,
  action      text,
  decision    text,
  tier        text,
  tags        text[],
  policy_id   text,
  bundle_hash text,
  paths       text[],
  zones       text[],
  ingested_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain_id, seq)
);
CREATE INDEX audit_records_time     ON audit_records ("time");
CREATE INDEX audit_records_user     ON audit_records ("user", "time");
CREATE INDEX audit_records_decision ON audit_records (decision, "time");
CREATE INDEX audit_records_tier     ON audit_records (tier, "time");
CREATE INDEX audit_records_policy   ON audit_records (policy_id, "time");
CREATE INDEX audit_records_kind     ON audit_records (kind, "time");
-- No GIN index on paths/zones: path queries are globs (regular expressions over unnest(paths)),
-- which GIN cannot serve, and each GIN index roughly halved the ingest rate.

CREATE TABLE audit_checkpoints (
  chain_id   text   NOT NULL,
  seq        bigint NOT NULL,
  hash       text   NOT NULL,
  "time"     text   NOT NULL,
  tree_size  bigint NOT NULL,
  root       text   NOT NULL,
  key_id     text   NOT NULL,
  sig        text   NOT NULL,
  checkpoint text   NOT NULL,
  PRIMARY KEY (chain_id, seq)
);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'lacuna-fs audit table % is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
`,
  },
  {
    version: 2,
    name: 'kind index only over the rare kinds',
    // Almost every row is a decision, and decisions are found through the decision, tier, user
    // and policy indexes; queries by kind look for the rare events (exceptions, policy loads,
    // daemon start/stop), which this partial index still serves. One index less to update per
    // decision row: about 7 % more ingest.
    sql: `
DROP INDEX audit_records_kind;
CREATE INDEX audit_records_kind ON audit_records (kind, "time") WHERE kind <> 'decision';
`,
  },
];

/** Apply pending migrations; idempotent and safe to race from several hosts. Returns versions applied. */
export async function migrate(client: pg.ClientBase): Promise<number[]> {
  // Up to date already: read-only check first, so the writer role (no DDL rights) can connect.
  const { rows: reg } = await client.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  if (reg[0]?.t) {
    const { rows: have } = await client.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM schema_migrations WHERE component = $1 AND version <= $2',
      [COMPONENT, MIGRATIONS.length],
    );
    if (Number(have[0]?.n) === MIGRATIONS.length) return [];
  }
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    // Serialises concurrent migrators; released at COMMIT/ROLLBACK.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('lacuna-fs schema_migrations'))`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      component  text NOT NULL,
      version    integer NOT NULL,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (component, version))`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations WHERE component = $1', [COMPONENT]);
    const done = new Set(rows.map((r) => r.version));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)', [COMPONENT, m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
  return applied;
}

/** Latest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Roles and grants documented in docs/AUDIT.md: the owner migrates, daemons may only INSERT and
 * SELECT (so UPDATE/DELETE fail on privileges before the triggers even run), auditors only SELECT.
 * Run as a superuser after the first migration; role names are fixed here and in the docs.
 */
export const GRANTS_SQL = `
GRANT USAGE ON SCHEMA public TO lacuna_audit_writer, lacuna_audit_reader;
GRANT SELECT ON schema_migrations TO lacuna_audit_writer, lacuna_audit_reader;
GRANT SELECT, INSERT ON audit_records, audit_checkpoints, audit_chains TO lacuna_audit_writer;
GRANT SELECT ON audit_records, audit_checkpoints, audit_chains TO lacuna_audit_reader;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_records, audit_checkpoints, audit_chains FROM PUBLIC, lacuna_audit_writer, lacuna_audit_reader;
`;
