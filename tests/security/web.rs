//! (filled by the web work)
