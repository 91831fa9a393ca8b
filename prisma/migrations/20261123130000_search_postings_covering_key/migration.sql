-- The postings' primary key also carries tf and dl, so that the search's random access to a
-- (term, chunk) posting (the floors plan, the threshold algorithm's probes) reads the index
-- alone. Still one posting per (term, chunk): the triggers make one per lexeme of a chunk's
-- tsvector. Measured at 1M chunks: 3,000 probes 6 µs → 2 µs each (the heap pages of 40M
-- postings are seldom in shared buffers); two words ranked from their floors 200–260 → 22–45 ms.
ALTER TABLE "search_postings"
  DROP CONSTRAINT "search_postings_pkey",
  ADD CONSTRAINT "search_postings_pkey" PRIMARY KEY ("term", "chunkId", "tf", "dl");
