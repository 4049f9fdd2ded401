-- ASP.NET Core's data-protection keys (they protect the signup form's antiforgery tokens), one row per key, as XML.
-- In the store rather than a folder of one machine, so every instance on the database shares one key ring.
CREATE TABLE data_protection_keys (
    name TEXT PRIMARY KEY,
    xml TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
