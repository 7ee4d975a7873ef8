//! Any BGP message: the header's type picks the body's parser.
//! (filled once the message modules land)

/// Any BGP message (placeholder).
#[derive(Debug)]
pub enum Message {}
