//! `mta queue`: list (mailq), delete, hold, release, requeue (postsuper).
//! Talks to the running daemon, or works on the queue directly when none runs.

use super::control::{check, load_config, queue_dir, socket};
use super::{ConfigDir, Outcome};
use crate::control::{apply, request, QueueOp, Request};
use crate::queue::{Queue, QueueName, QueueRecord};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the queue in mailq(1) layout.
    List {
        #[command(flatten)]
        dir: ConfigDir,
        /// One JSON object per message instead.
        #[arg(long)]
        json: bool,
    },
    /// Delete messages (postsuper -d).
    Delete(Ids),
    /// Put messages on hold (postsuper -h).
    Hold(Ids),
    /// Release held messages (postsuper -H).
    Release(Ids),
    /// Requeue messages for immediate delivery (postsuper -r).
    Requeue(Ids),
}

#[derive(Debug, clap::Args)]
pub struct Ids {
    #[command(flatten)]
    pub dir: ConfigDir,
    /// Queue ids, or ALL.
    #[arg(required = true)]
    pub ids: Vec<String>,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn list(dir: &ConfigDir) -> anyhow::Result<Vec<QueueRecord>> {
    let config = load_config(dir)?;
    if let Some(resp) = request(&socket(&config), &Request::List)? {
        return Ok(check(resp)?.messages.unwrap_or_default());
    }
    let q = Queue::open(&queue_dir(&config))?;
    runtime()?.block_on(q.list())
}

/// mailq's layout: id (`*` active, `!` held), size, arrival, sender, then
/// the reason and recipients indented.
pub fn mailq(msgs: &[QueueRecord]) -> String {
    if msgs.is_empty() {
        return "Mail queue is empty\n".into();
    }
    let mut out =
        String::from("-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n");
    let mut total = 0u64;
    for m in msgs {
        total += m.size;
        let mark = match m.queue {
            QueueName::Active => "*",
            QueueName::Hold => "!",
            _ => "",
        };
        let date = crate::delivery::bounce::rfc5322_date(
            std::time::UNIX_EPOCH + std::time::Duration::from_millis(m.arrival_ms),
        );
        // "Sun, 22 Nov 2026 04:05:06 +0000" -> "Sun Nov 22 04:05:06"
        let p: Vec<&str> = date.split_whitespace().collect();
        let when = if p.len() >= 5 {
            format!(
                "{} {} {:>2} {}",
                p[0].trim_end_matches(','),
                p[2],
                p[1],
                p[4]
            )
        } else {
            date
        };
        let sender = if m.sender.is_empty() {
            "MAILER-DAEMON"
        } else {
            &m.sender
        };
        out.push_str(&format!(
            "{:<11}{:>9} {}  {}\n",
            format!("{}{mark}", m.queue_id),
            m.size,
            when,
            sender
        ));
        let mut last_reason: Option<&str> = None;
        for r in &m.recipients {
            if let Some(reason) = r.last_reason.as_deref() {
                if last_reason != Some(reason) {
                    out.push_str(&format!("{:41}({})\n", "", reason));
                    last_reason = Some(reason);
                }
            }
            out.push_str(&format!("{:41}{}\n", "", r.address));
        }
        out.push('\n');
    }
    let n = msgs.len();
    out.push_str(&format!(
        "-- {} Kbytes in {n} Request{}.\n",
        total.div_ceil(1024),
        if n == 1 { "" } else { "s" }
    ));
    out
}

fn op(op: QueueOp, ids: Ids) -> Outcome {
    let config = load_config(&ids.dir)?;
    let n = match request(
        &socket(&config),
        &Request::Queue {
            op,
            ids: ids.ids.clone(),
        },
    )? {
        Some(resp) => check(resp)?.count.unwrap_or(0),
        None => {
            let q = Queue::open(&queue_dir(&config))?;
            runtime()?.block_on(apply(&q, op, &ids.ids))?
        }
    };
    let verb = match op {
        QueueOp::Delete => "Deleted",
        QueueOp::Hold => "Placed on hold",
        QueueOp::Release => "Released from hold",
        QueueOp::Requeue => "Requeued",
    };
    eprintln!("mta: {verb}: {n} message{}", if n == 1 { "" } else { "s" });
    Ok(std::process::ExitCode::SUCCESS)
}

pub fn main(command: Command) -> Outcome {
    match command {
        Command::List { dir, json } => {
            let msgs = list(&dir)?;
            if json {
                for m in &msgs {
                    println!("{}", serde_json::to_string(m)?);
                }
            } else {
                print!("{}", mailq(&msgs));
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Delete(ids) => op(QueueOp::Delete, ids),
        Command::Hold(ids) => op(QueueOp::Hold, ids),
        Command::Release(ids) => op(QueueOp::Release, ids),
        Command::Requeue(ids) => op(QueueOp::Requeue, ids),
    }
}
