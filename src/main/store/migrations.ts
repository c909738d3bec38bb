import type Database from 'better-sqlite3'

/**
 * Versioned migrations, applied in order on open; PRAGMA user_version records the last one applied. A migration
 * is never edited once shipped: a change is a new entry.
 */
export interface Migration {
  version: number
  description: string
  up: (db: Database.Database) => void
}

export const migrations: Migration[] = [
  {
    version: 1,
    description: 'initial project schema',
    up: (db) =>
      db.exec(`
        CREATE TABLE project_meta (
          key   TEXT PRIMARY KEY,
          value TEXT NOT NULL
        );

        CREATE TABLE class_sets (
          id         INTEGER PRIMARY KEY,
          name       TEXT NOT NULL,
          classes    TEXT NOT NULL,          -- JSON [{id, name, color}]
          ignore_ids TEXT NOT NULL DEFAULT '[]'
        );

        CREATE TABLE datasets (
          id           INTEGER PRIMARY KEY,
          name         TEXT NOT NULL,
          format       TEXT NOT NULL,        -- cityscapes | voc | folder | texture-mnist | demo
          root         TEXT NOT NULL,
          class_set_id INTEGER NOT NULL REFERENCES class_sets(id),
          options      TEXT NOT NULL DEFAULT '{}',
          created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );

        CREATE TABLE images (
          id           INTEGER PRIMARY KEY,
          dataset_id   INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
          path         TEXT NOT NULL,        -- stays where the user keeps it; relative to the dataset root
          label_path   TEXT,
          instance_path TEXT,
          width        INTEGER NOT NULL CHECK (width > 0),
          height       INTEGER NOT NULL CHECK (height > 0),
          split        TEXT NOT NULL DEFAULT 'all',
          content_hash TEXT NOT NULL,
          meta         TEXT NOT NULL DEFAULT '{}',
          UNIQUE (dataset_id, path)
        );
        CREATE INDEX images_by_split ON images(dataset_id, split);

        CREATE TABLE models (
          id            INTEGER PRIMARY KEY,
          name          TEXT NOT NULL,
          dir           TEXT NOT NULL,
          architecture  TEXT NOT NULL,
          class_set_id  INTEGER REFERENCES class_sets(id),
          content_hash  TEXT NOT NULL,
          config        TEXT NOT NULL DEFAULT '{}',
          created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          UNIQUE (content_hash)
        );

        CREATE TABLE predictions (
          id          INTEGER PRIMARY KEY,
          model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
          image_id    INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
          label_map   BLOB NOT NULL,         -- uint8/uint16 class ids, row-major, image size
          confidence  BLOB NOT NULL,         -- float32 max probability per pixel
          created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          UNIQUE (model_id, image_id)
        );

        CREATE TABLE segments (
          id          INTEGER PRIMARY KEY,
          image_id    INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
          model_id    INTEGER REFERENCES models(id) ON DELETE CASCADE,
          source      TEXT NOT NULL,         -- predicted | gt-instance | gt-and-predicted | drawn
          gt_class    INTEGER,
          pred_class  INTEGER,
          kind        TEXT NOT NULL,         -- correct | misclassified | predicted | instance | drawn
          area        INTEGER NOT NULL CHECK (area > 0),
          bbox        TEXT NOT NULL,         -- JSON [x, y, w, h]
          mask        BLOB NOT NULL,         -- run-length encoded over the image
          confidence  REAL,
          created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );
        CREATE INDEX segments_by_image ON segments(image_id);
        CREATE INDEX segments_by_kind ON segments(model_id, gt_class, pred_class, kind);

        CREATE TABLE jobs (
          id          INTEGER PRIMARY KEY,
          kind        TEXT NOT NULL,
          state       TEXT NOT NULL CHECK (state IN ('queued','running','paused','cancelled','failed','done')),
          params      TEXT NOT NULL DEFAULT '{}',
          total       INTEGER NOT NULL DEFAULT 0,
          error       TEXT,
          created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );

        -- One row per unit of work, so a resumed job knows exactly what is left and a result is never stored twice.
        CREATE TABLE job_items (
          id          INTEGER PRIMARY KEY,
          job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
          item_key    TEXT NOT NULL,
          state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','done','failed')),
          error_code  TEXT,
          error       TEXT,
          updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          UNIQUE (job_id, item_key)
        );
        CREATE INDEX job_items_by_state ON job_items(job_id, state);

        CREATE TABLE explanations (
          id          INTEGER PRIMARY KEY,
          image_id    INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
          model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
          segment_id  INTEGER REFERENCES segments(id) ON DELETE SET NULL,
          job_id      INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
          job_item_key TEXT,
          method      TEXT NOT NULL,         -- grid | context | vg | ig | sg
          class_id    INTEGER NOT NULL,
          request     BLOB NOT NULL,         -- run-length encoded request mask R
          params      TEXT NOT NULL,
          saliency    BLOB NOT NULL,         -- float32, native (low) resolution
          saliency_h  INTEGER NOT NULL,
          saliency_w  INTEGER NOT NULL,
          summary     TEXT NOT NULL DEFAULT '{}',
          created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          UNIQUE (job_id, job_item_key)
        );
        CREATE INDEX explanations_by_image ON explanations(image_id);

        CREATE TABLE bookmarks (
          id          INTEGER PRIMARY KEY,
          target_kind TEXT NOT NULL CHECK (target_kind IN ('image','segment','explanation')),
          target_id   INTEGER NOT NULL,
          title       TEXT NOT NULL DEFAULT '',
          tags        TEXT NOT NULL DEFAULT '[]',
          created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          UNIQUE (target_kind, target_id)
        );

        CREATE TABLE notes (
          id          INTEGER PRIMARY KEY,
          target_kind TEXT NOT NULL CHECK (target_kind IN ('image','segment','explanation')),
          target_id   INTEGER NOT NULL,
          body        TEXT NOT NULL,
          created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );
        CREATE INDEX notes_by_target ON notes(target_kind, target_id);

        CREATE TABLE reports (
          id          INTEGER PRIMARY KEY,
          title       TEXT NOT NULL,
          params      TEXT NOT NULL DEFAULT '{}',
          path        TEXT,
          created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );
      `)
  },
  {
    version: 2,
    description: 'job leases: the owner process and its heartbeat in the job row',
    // A job row says 'running' whether its process lives or was killed; the owner's heartbeat tells them apart,
    // so a second process neither runs the same items again nor leaves a dead job looking busy (src/main/jobs/lease.ts).
    up: (db) =>
      db.exec(`
        ALTER TABLE jobs ADD COLUMN owner_pid    INTEGER;
        ALTER TABLE jobs ADD COLUMN owner_host   TEXT;
        ALTER TABLE jobs ADD COLUMN owner_token  TEXT;     -- pid + random: tells two handles in one process apart
        ALTER TABLE jobs ADD COLUMN heartbeat_at INTEGER;  -- ms since the epoch, the owner's clock
      `)
  }
]

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1].version
