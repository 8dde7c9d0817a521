//! (filled by the children work)
