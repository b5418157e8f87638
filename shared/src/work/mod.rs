//! What tasks (todo channels) and boards (kanban channels) share: the counters behind the
//! stats, the due markers behind overdue counts, the assignee index behind my-work, and
//! the reads over them.
//!
//! Routes: `GET /v1/channels/{cid}/stats`, `GET /v1/workspaces/{wid}/my-work`,
//! `GET /v1/workspaces/{wid}/workload` (served by the tasks function).
//! Entities: channel totals (`CH#cid` / `BOARD#TOTALS`), per-assignee counts
//! (`CH#cid` / `BOARD#ASSIGNEE#uid`), workspace workload (`WS#wid` / `LOAD#uid`), due
//! markers (`CH#cid` / `DUE#date#id`, GSI1 `DUE#wid` / `date#id`).
//! Access patterns: every task or card change is one transaction with the counters and
//! marker it moves ([`store::WorkWrite`]); stats = one Query of `BOARD#` plus one bounded
//! count of due markers; workload = one Query of `LOAD#` plus one bounded Query of the
//! workspace's due markers; my-work = the GSI2 partition `WORK#wid#uid`, filtered to the
//! channels the caller can still read.

pub mod model;
pub mod rules;
pub mod store;

pub use model::*;
pub use rules::*;
pub use store::{ChannelCounters, OVERDUE_COUNT_MAX, Totals, WorkItem, WorkOutcome};
