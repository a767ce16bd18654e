-- PostgreSQL side of bench/run's durable-append comparison.
CREATE TABLE events (
    position bigserial PRIMARY KEY,
    stream   text   NOT NULL,
    version  bigint NOT NULL,
    payload  jsonb  NOT NULL,
    UNIQUE (stream, version)
);
CREATE TABLE streams (
    id      text PRIMARY KEY,
    version bigint NOT NULL
);
INSERT INTO streams (id, version) SELECT 'plan-' || g, 0 FROM generate_series(0, 999) AS g;
VACUUM ANALYZE streams;
CHECKPOINT;
