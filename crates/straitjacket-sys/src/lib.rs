//! The only crate of straitjacket with `unsafe`: thin, typed wrappers over the kernel.
//! Every `unsafe` block is small and carries a `// SAFETY:` line saying why it holds.
