//! Policy text to syntax tree. Never panics; recursion is bounded.

pub mod ast;
