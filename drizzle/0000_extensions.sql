-- Trigram indexes back the text search on request titles and item references.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
