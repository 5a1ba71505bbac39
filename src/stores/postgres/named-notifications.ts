import { INSTANCE_SETTING, type PgMigration } from './database.js';
import { EVENTS_CHANNEL, IDEMPOTENCY_KEY_TAKEN, STREAM_VERSION_CONFLICT, UNIQUE_VALUE_TAKEN } from './event-store-schema.js';

/**
 * Version 8 of the event store's schema (after src/stores/postgres/idempotency-records.ts, 7):
 * an append's NOTIFY names the instance that wrote it, so that instance can skip the echo of
 * its own commit, which it has already signalled at home (every commit used to wake its own
 * projector twice). The name is the appending session's `cqrs.instance` setting
 * (src/stores/postgres/database.ts); a session without one (an instance of an older build)
 * sends '' as before, which wakes everyone.
 *
 * Safe while instances of the older build run: the signature, and so every caller's
 * statement, stays as migration 6 made it (`cqrs_append_batch` calls this function and is
 * unchanged), and a listener of the older build ignores payloads. Only the NOTIFY differs
 * from migration 6's body. Within one transaction PostgreSQL folds notifications of equal
 * channel and payload into one: a group commit still notifies once, under its one name.
 */
export const namedAppendNotifications: PgMigration = {
  version: 8,
  description: 'append notifications name the appending instance',
  sql: `
      CREATE OR REPLACE FUNCTION cqrs_append_events(
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
        -- missing_ok: NULL in a session that never set the name.
        PERFORM pg_notify('${EVENTS_CHANNEL}', coalesce(current_setting('${INSTANCE_SETTING}', true), ''));
      END
      $fn$;`,
};
