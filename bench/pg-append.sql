-- pgbench script for bench/run: one event per transaction (autocommit), appended to a random
-- stream among 1,000 at that stream's next version; the same ~300-byte JSON payload as the ledger
-- bench. The UPDATE takes the stream's row lock, so concurrent appends to one stream serialise and
-- the (stream, version) pair stays unique and gapless.
\set n random(0, 999)
WITH v AS (UPDATE streams SET version = version + 1 WHERE id = 'plan-' || :n::text RETURNING version) INSERT INTO events (stream, version, payload) SELECT 'plan-' || :n::text, version, '{"section":"barriers","text":"u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7DxtpYlSXpfKtHF4vUCsMehGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rESQedUStPKR0CsTy4Qwb8DwkNhFdnXsiVpzz63FfkCzJr4i0B3JrTAwR4y9ojfljoQoaF1LlqsajAIxNKu8iS2G8NPRVdD53X83RZJzzzzgEOzdmenCkhvMdgaKjIg"}' FROM v;
