import type { StreamCategory } from '../../kernel/stream-id.js';
import { OLD_ID_MARK, oldStreamsNotAdopted } from '../stream-categories.js';
import type { PgMigration } from './database.js';

/**
 * The PostgreSQL event store's schema, oldest migration first. A migration
 * is never edited once released: a database records the version it reached,
 * and a later change is a new migration (function bodies are replaced whole).
 */

export const EVENTS_CHANNEL = 'cqrs_events';

// SQLSTATEs raised by cqrs_append_events for the conflicts an append can meet (class CQ is ours).
export const STREAM_VERSION_CONFLICT = 'CQ001';
export const UNIQUE_VALUE_TAKEN = 'CQ002';
export const IDEMPOTENCY_KEY_TAKEN = 'CQ003';

export const eventStoreMigrations: readonly PgMigration[] = [
  {
    version: 1,
    description: 'events ordered by writing transaction, unique values, idempotency records',
    sql: `
      CREATE TABLE events (
        transaction_id xid8    NOT NULL DEFAULT pg_current_xact_id(),
        position       bigint  GENERATED ALWAYS AS IDENTITY,
        stream_id      text    NOT NULL,
        stream_version integer NOT NULL,
        type           text    NOT NULL,
        schema_version integer NOT NULL,
        data           jsonb   NOT NULL,
        metadata       jsonb   NOT NULL,
        PRIMARY KEY (transaction_id, position),
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
      );
      CREATE TABLE unique_values (
        scope     text NOT NULL,
        value     text NOT NULL,
        stream_id text NOT NULL,
        PRIMARY KEY (scope, value)
      );
      CREATE TABLE idempotency_records (
        key          text        PRIMARY KEY,
        request_hash text        NOT NULL,
        outcome      jsonb       NOT NULL,
        recorded_at  timestamptz NOT NULL DEFAULT now()
      );`,
  },
  {
    version: 2,
    description: 'append in one statement: version check, unique values and events server-side',
    // One round trip per append: on loopback the socket writes and wake-ups of a round trip per
    // statement cost more than the statements themselves (figures: BENCHMARKS.md).
    // A volatile function takes a fresh snapshot per statement, so a claim still sees a
    // concurrent claimant's outcome after waiting on it, as the separate statements did.
    sql: `
      CREATE FUNCTION cqrs_append_events(
        append_stream_id text, expected_version integer,
        event_types text[], schema_versions integer[], event_data jsonb[], event_metadata jsonb[],
        release_scopes text[], release_values text[], claim_scopes text[], claim_values text[],
        idempotency_key text
      ) RETURNS TABLE (appended_transaction_id text, appended_position text)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        actual_version integer;
        owner text;
      BEGIN
        SELECT coalesce(max(stream_version), 0) INTO actual_version FROM events WHERE stream_id = append_stream_id;
        IF actual_version <> expected_version THEN
          RAISE EXCEPTION USING ERRCODE = '${STREAM_VERSION_CONFLICT}', MESSAGE = 'stream version conflict', DETAIL = actual_version::text;
        END IF;
        IF idempotency_key IS NOT NULL AND EXISTS (SELECT 1 FROM idempotency_records WHERE key = idempotency_key) THEN
          RAISE EXCEPTION USING ERRCODE = '${IDEMPOTENCY_KEY_TAKEN}', MESSAGE = 'idempotency key taken';
        END IF;
        DELETE FROM unique_values u USING unnest(release_scopes, release_values) AS r(scope, value)
         WHERE u.scope = r.scope AND u.value = r.value AND u.stream_id = append_stream_id;
        FOR i IN 1 .. coalesce(array_length(claim_scopes, 1), 0) LOOP
          -- Waits for a concurrent claimant to commit or roll back, then sees its outcome.
          INSERT INTO unique_values (scope, value, stream_id) VALUES (claim_scopes[i], claim_values[i], append_stream_id)
            ON CONFLICT DO NOTHING;
          SELECT u.stream_id INTO owner FROM unique_values u WHERE u.scope = claim_scopes[i] AND u.value = claim_values[i];
          IF owner IS NOT NULL AND owner <> append_stream_id THEN
            RAISE EXCEPTION USING ERRCODE = '${UNIQUE_VALUE_TAKEN}', MESSAGE = 'unique value taken',
              DETAIL = json_build_array(claim_scopes[i], claim_values[i], owner)::text;
          END IF;
        END LOOP;
        RETURN QUERY
          INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata)
          SELECT append_stream_id, expected_version + e.ordinality::integer, e.type, e.schema_version, e.data, e.metadata
            FROM unnest(event_types, schema_versions, event_data, event_metadata) WITH ORDINALITY AS e(type, schema_version, data, metadata)
           ORDER BY e.ordinality
          RETURNING events.transaction_id::text, events.position::text;
        PERFORM pg_notify('${EVENTS_CHANNEL}', '');
      END
      $fn$;`,
  },
  {
    version: 3,
    description: 'append: no statement for an empty release list, one for an uncontested claim',
    // PL/pgSQL plans the release DELETE over unnest() afresh on every call (a custom plan that
    // costs more than any statement of the append takes to run), though most appends release
    // nothing. A claim that inserts its row needs no second look at who owns the value.
    sql: `
      CREATE OR REPLACE FUNCTION cqrs_append_events(
        append_stream_id text, expected_version integer,
        event_types text[], schema_versions integer[], event_data jsonb[], event_metadata jsonb[],
        release_scopes text[], release_values text[], claim_scopes text[], claim_values text[],
        idempotency_key text
      ) RETURNS TABLE (appended_transaction_id text, appended_position text)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        actual_version integer;
        owner text;
      BEGIN
        SELECT coalesce(max(stream_version), 0) INTO actual_version FROM events WHERE stream_id = append_stream_id;
        IF actual_version <> expected_version THEN
          RAISE EXCEPTION USING ERRCODE = '${STREAM_VERSION_CONFLICT}', MESSAGE = 'stream version conflict', DETAIL = actual_version::text;
        END IF;
        IF idempotency_key IS NOT NULL AND EXISTS (SELECT 1 FROM idempotency_records WHERE key = idempotency_key) THEN
          RAISE EXCEPTION USING ERRCODE = '${IDEMPOTENCY_KEY_TAKEN}', MESSAGE = 'idempotency key taken';
        END IF;
        FOR i IN 1 .. coalesce(array_length(release_scopes, 1), 0) LOOP
          DELETE FROM unique_values u
           WHERE u.scope = release_scopes[i] AND u.value = release_values[i] AND u.stream_id = append_stream_id;
        END LOOP;
        FOR i IN 1 .. coalesce(array_length(claim_scopes, 1), 0) LOOP
          -- Waits for a concurrent claimant to commit or roll back, then sees its outcome.
          INSERT INTO unique_values (scope, value, stream_id) VALUES (claim_scopes[i], claim_values[i], append_stream_id)
            ON CONFLICT DO NOTHING;
          CONTINUE WHEN FOUND;
          SELECT u.stream_id INTO owner FROM unique_values u WHERE u.scope = claim_scopes[i] AND u.value = claim_values[i];
          IF owner IS NOT NULL AND owner <> append_stream_id THEN
            RAISE EXCEPTION USING ERRCODE = '${UNIQUE_VALUE_TAKEN}', MESSAGE = 'unique value taken',
              DETAIL = json_build_array(claim_scopes[i], claim_values[i], owner)::text;
          END IF;
        END LOOP;
        RETURN QUERY
          INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata)
          SELECT append_stream_id, expected_version + e.ordinality::integer, e.type, e.schema_version, e.data, e.metadata
            FROM unnest(event_types, schema_versions, event_data, event_metadata) WITH ORDINALITY AS e(type, schema_version, data, metadata)
           ORDER BY e.ordinality
          RETURNING events.transaction_id::text, events.position::text;
        PERFORM pg_notify('${EVENTS_CHANNEL}', '');
      END
      $fn$;`,
  },
  {
    version: 4,
    description: 'group commit: several appends in one transaction, each in its own subtransaction',
    // Each append runs as before, inside an exception block (a subtransaction), so a conflict
    // undoes only its own append and is reported in its row; anything else aborts the batch.
    // A lost race on the stream's version (a concurrent writer, a deadlock between claims)
    // reports the version the stream has now, as the single append's caller looks it up.
    sql: `
      CREATE FUNCTION cqrs_append_batch(
        stream_ids text[], expected_versions integer[],
        event_ends integer[], event_types text[], schema_versions integer[], event_data jsonb[], event_metadata jsonb[],
        release_ends integer[], release_scopes text[], release_values text[],
        claim_ends integer[], claim_scopes text[], claim_values text[]
      ) RETURNS TABLE (append_index integer, appended_transaction_id text, appended_position text, conflict_code text, conflict_detail text)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        event_from integer := 1;
        release_from integer := 1;
        claim_from integer := 1;
        code text;
        detail text;
        violated text;
      BEGIN
        FOR i IN 1 .. coalesce(array_length(stream_ids, 1), 0) LOOP
          BEGIN
            RETURN QUERY
              SELECT i, a.appended_transaction_id, a.appended_position, NULL::text, NULL::text
                FROM cqrs_append_events(stream_ids[i], expected_versions[i],
                  event_types[event_from:event_ends[i]], schema_versions[event_from:event_ends[i]],
                  event_data[event_from:event_ends[i]], event_metadata[event_from:event_ends[i]],
                  release_scopes[release_from:release_ends[i]], release_values[release_from:release_ends[i]],
                  claim_scopes[claim_from:claim_ends[i]], claim_values[claim_from:claim_ends[i]], NULL) a;
          EXCEPTION WHEN SQLSTATE '${STREAM_VERSION_CONFLICT}' OR SQLSTATE '${UNIQUE_VALUE_TAKEN}' OR unique_violation OR deadlock_detected THEN
            GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL, violated = CONSTRAINT_NAME;
            IF code = '23505' AND violated IS DISTINCT FROM 'events_stream_version_unique' THEN
              RAISE;
            END IF;
            IF code IN ('23505', '40P01') THEN
              code := '${STREAM_VERSION_CONFLICT}';
              SELECT coalesce(max(stream_version), 0)::text INTO detail FROM events WHERE stream_id = stream_ids[i];
            END IF;
            RETURN QUERY SELECT i, NULL::text, NULL::text, code, detail;
          END;
          event_from := event_ends[i] + 1;
          release_from := release_ends[i] + 1;
          claim_from := claim_ends[i] + 1;
        END LOOP;
      END
      $fn$;`,
  },
];

/**
 * Version 5: stream ids carry their aggregate's category (see
 * src/stores/stream-categories.ts). The category is a plain word
 * (kernel/stream-id.ts checks it), so it is safe to write into the SQL.
 */
export function categorisedStreams(category: StreamCategory | undefined): PgMigration {
  const refusal = oldStreamsNotAdopted('The PostgreSQL event store').replaceAll("'", "''");
  return {
    version: 5,
    description: 'stream ids carry their aggregate category',
    sql:
      category === undefined
        ? `DO $$ BEGIN
             IF EXISTS (SELECT FROM events) OR EXISTS (SELECT FROM unique_values) THEN RAISE EXCEPTION '${refusal}'; END IF;
           END $$;`
        : `UPDATE events SET stream_id = '${category}${OLD_ID_MARK}' || stream_id;
           UPDATE events SET stream_id = '${category}-' || substr(stream_id, ${category.length + 2});
           UPDATE unique_values SET stream_id = '${category}-' || stream_id;
           UPDATE idempotency_records
              SET outcome = jsonb_set(outcome, '{value,streamId}', to_jsonb('${category}-' || (outcome #>> '{value,streamId}')))
            WHERE jsonb_typeof(outcome #> '{value,streamId}') = 'string';`,
  };
}

/**
 * Version 6 (after the category migration, 5): per-subject data keys
 * (src/kernel/personal-data.ts) and the master key's check value. The append
 * functions gain parameters with defaults, so an instance still calling them
 * the old way (a rolling upgrade) keeps working: the old signatures are
 * dropped, or a call with the old arguments would match two functions.
 */
export const dataKeysMigration: PgMigration = {
  version: 6,
  description: 'data keys for personal fields, written and destroyed in the append',
  sql: `
      CREATE TABLE data_keys (
        subject      text PRIMARY KEY,
        wrapped      bytea,
        destroyed_at timestamptz,
        CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
      );
      CREATE TABLE master_key_check (
        id            integer PRIMARY KEY CHECK (id = 1),
        key_id        text        NOT NULL,
        check_value   bytea       NOT NULL,
        events_sealed boolean     NOT NULL,
        written_at    timestamptz NOT NULL DEFAULT now()
      );
      DROP FUNCTION cqrs_append_batch(text[], integer[], integer[], text[], integer[], jsonb[], jsonb[], integer[], text[], text[], integer[], text[], text[]);
      DROP FUNCTION cqrs_append_events(text, integer, text[], integer[], jsonb[], jsonb[], text[], text[], text[], text[], text);
      CREATE FUNCTION cqrs_append_events(
        append_stream_id text, expected_version integer,
        event_types text[], schema_versions integer[], event_data jsonb[], event_metadata jsonb[],
        release_scopes text[], release_values text[], claim_scopes text[], claim_values text[],
        idempotency_key text,
        data_key_subject text DEFAULT NULL, data_key_wrapped bytea DEFAULT NULL, shred_subjects text[] DEFAULT NULL
      ) RETURNS TABLE (appended_transaction_id text, appended_position text)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        actual_version integer;
        owner text;
      BEGIN
        SELECT coalesce(max(stream_version), 0) INTO actual_version FROM events WHERE stream_id = append_stream_id;
        IF actual_version <> expected_version THEN
          RAISE EXCEPTION USING ERRCODE = '${STREAM_VERSION_CONFLICT}', MESSAGE = 'stream version conflict', DETAIL = actual_version::text;
        END IF;
        IF idempotency_key IS NOT NULL AND EXISTS (SELECT 1 FROM idempotency_records WHERE key = idempotency_key) THEN
          RAISE EXCEPTION USING ERRCODE = '${IDEMPOTENCY_KEY_TAKEN}', MESSAGE = 'idempotency key taken';
        END IF;
        FOR i IN 1 .. coalesce(array_length(release_scopes, 1), 0) LOOP
          DELETE FROM unique_values u
           WHERE u.scope = release_scopes[i] AND u.value = release_values[i] AND u.stream_id = append_stream_id;
        END LOOP;
        FOR i IN 1 .. coalesce(array_length(claim_scopes, 1), 0) LOOP
          -- Waits for a concurrent claimant to commit or roll back, then sees its outcome.
          INSERT INTO unique_values (scope, value, stream_id) VALUES (claim_scopes[i], claim_values[i], append_stream_id)
            ON CONFLICT DO NOTHING;
          CONTINUE WHEN FOUND;
          SELECT u.stream_id INTO owner FROM unique_values u WHERE u.scope = claim_scopes[i] AND u.value = claim_values[i];
          IF owner IS NOT NULL AND owner <> append_stream_id THEN
            RAISE EXCEPTION USING ERRCODE = '${UNIQUE_VALUE_TAKEN}', MESSAGE = 'unique value taken',
              DETAIL = json_build_array(claim_scopes[i], claim_values[i], owner)::text;
          END IF;
        END LOOP;
        IF data_key_subject IS NOT NULL THEN
          INSERT INTO data_keys (subject, wrapped) VALUES (data_key_subject, data_key_wrapped) ON CONFLICT DO NOTHING;
        END IF;
        IF coalesce(array_length(shred_subjects, 1), 0) > 0 THEN
          INSERT INTO data_keys (subject, wrapped, destroyed_at) SELECT s, NULL, now() FROM unnest(shred_subjects) AS s
            ON CONFLICT (subject) DO UPDATE SET wrapped = NULL, destroyed_at = coalesce(data_keys.destroyed_at, excluded.destroyed_at);
        END IF;
        RETURN QUERY
          INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata)
          SELECT append_stream_id, expected_version + e.ordinality::integer, e.type, e.schema_version, e.data, e.metadata
            FROM unnest(event_types, schema_versions, event_data, event_metadata) WITH ORDINALITY AS e(type, schema_version, data, metadata)
           ORDER BY e.ordinality
          RETURNING events.transaction_id::text, events.position::text;
        PERFORM pg_notify('${EVENTS_CHANNEL}', '');
      END
      $fn$;
      CREATE FUNCTION cqrs_append_batch(
        stream_ids text[], expected_versions integer[],
        event_ends integer[], event_types text[], schema_versions integer[], event_data jsonb[], event_metadata jsonb[],
        release_ends integer[], release_scopes text[], release_values text[],
        claim_ends integer[], claim_scopes text[], claim_values text[],
        data_key_subjects text[] DEFAULT NULL, data_keys_wrapped bytea[] DEFAULT NULL,
        shred_ends integer[] DEFAULT NULL, shred_subjects text[] DEFAULT NULL
      ) RETURNS TABLE (append_index integer, appended_transaction_id text, appended_position text, conflict_code text, conflict_detail text)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        event_from integer := 1;
        release_from integer := 1;
        claim_from integer := 1;
        shred_from integer := 1;
        code text;
        detail text;
        violated text;
      BEGIN
        FOR i IN 1 .. coalesce(array_length(stream_ids, 1), 0) LOOP
          BEGIN
            RETURN QUERY
              SELECT i, a.appended_transaction_id, a.appended_position, NULL::text, NULL::text
                FROM cqrs_append_events(stream_ids[i], expected_versions[i],
                  event_types[event_from:event_ends[i]], schema_versions[event_from:event_ends[i]],
                  event_data[event_from:event_ends[i]], event_metadata[event_from:event_ends[i]],
                  release_scopes[release_from:release_ends[i]], release_values[release_from:release_ends[i]],
                  claim_scopes[claim_from:claim_ends[i]], claim_values[claim_from:claim_ends[i]], NULL,
                  data_key_subjects[i], data_keys_wrapped[i], shred_subjects[shred_from:shred_ends[i]]) a;
          EXCEPTION WHEN SQLSTATE '${STREAM_VERSION_CONFLICT}' OR SQLSTATE '${UNIQUE_VALUE_TAKEN}' OR unique_violation OR deadlock_detected THEN
            GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL, violated = CONSTRAINT_NAME;
            IF code = '23505' AND violated IS DISTINCT FROM 'events_stream_version_unique' THEN
              RAISE;
            END IF;
            IF code IN ('23505', '40P01') THEN
              code := '${STREAM_VERSION_CONFLICT}';
              SELECT coalesce(max(stream_version), 0)::text INTO detail FROM events WHERE stream_id = stream_ids[i];
            END IF;
            RETURN QUERY SELECT i, NULL::text, NULL::text, code, detail;
          END;
          event_from := event_ends[i] + 1;
          release_from := release_ends[i] + 1;
          claim_from := claim_ends[i] + 1;
          shred_from := coalesce(shred_ends[i], shred_from - 1) + 1;
        END LOOP;
      END
      $fn$;`,
};
