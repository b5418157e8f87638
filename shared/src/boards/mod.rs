//! Kanban boards of kanban channels: columns and cards.
//!
//! Routes: `GET /v1/channels/{cid}/board`, `POST /v1/channels/{cid}/columns`,
//! `PATCH|DELETE .../columns/{col}`, `POST .../columns/{col}/move`,
//! `GET|POST .../columns/{col}/cards`, `GET|PATCH|DELETE /v1/channels/{cid}/cards/{card}`,
//! `POST .../cards/{card}/move`.
//! Entities: column (`CH#cid` / `BOARD#COLUMN#colid`, with `card_count` and `wip_limit`),
//! card (`CH#cid` / `CARD#cardid`; GSI1 `COL#colid` / `position#cardid`; GSI2
//! `WORK#wid#uid` / `O#due#cardid` while assigned).
//! Access patterns: a board = one Query for the columns + one GSI1 page per column (8 at
//! once); a card entering a column = the work transaction with an `ADD card_count`
//! conditioned on the WIP limit; a column delete is conditioned on `card_count = 0`.

pub mod model;
pub mod rules;
pub mod store;

pub use model::*;
pub use rules::*;
pub use store::{ColumnCreation, ColumnDeletion};
