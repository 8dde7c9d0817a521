//! (filled by the secrets work)
