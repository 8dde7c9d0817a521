-- The recent scan results of each check (not the re-checks phases make before acting), for the dashboard's history strip on the checks page.
-- `checks` keeps only the last result; this keeps the last few (the writer trims each check
-- to `HISTORY_KEPT` rows, so the table stays small however long the host runs).
CREATE TABLE check_history (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    summary     TEXT NOT NULL DEFAULT '',
    checked_at  REAL NOT NULL
);
CREATE INDEX check_history_by_name ON check_history (name, id);
