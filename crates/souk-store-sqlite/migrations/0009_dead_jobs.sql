-- One job runner for every kind of background work: a job that failed its last allowed attempt
-- is parked as dead (dead_at set) instead of being dropped, so that administrators can see why and
-- run it again. Dead jobs are never claimed. Numbered in lockstep with the other backend's
-- migrations.
ALTER TABLE jobs ADD COLUMN dead_at INTEGER;
-- Bumped by every enqueue under the job's key. A worker finishes, retries or buries only the
-- generation it claimed: a rescan asked for while the checks run is never lost with the job.
ALTER TABLE jobs ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_dead_idx ON jobs (dead_at, id);
