//! (filled by the fs work)
