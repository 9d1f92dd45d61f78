//! Making a run's outputs visible all at once, and one writer per `--out`.
//!
//! A run writes every output into a hidden staging folder inside `--out`
//! ([`crate::output::Staged`]). Publishing then
//! 1. writes the journal `.revalign-journal.json`, listing every move (a staged
//!    partition or report folder to its place) and every stale partition to remove,
//!    atomically (temporary file, fsync, rename, fsync of the folder). This is the
//!    commit point;
//! 2. carries out the steps; each is idempotent, and the output it replaces goes to
//!    the staging folder's trash, not away;
//! 3. deletes the journal, then the staging folder.
//!
//! A run killed before step 1 leaves only its staging folder, which the next run
//! deletes: the previous outputs were never touched. A run killed after step 1 leaves
//! the journal, which the next run or `revalign query` carries out before anything
//! else (roll forward). A step that fails in a live run (a permission error, say) is
//! undone with the trash (roll back), and the run fails with that error. So `--out`
//! holds either the previous run's outputs or the new run's, never a mix, once the
//! journal is settled; readers that take the publish lock never see it unsettled.
//!
//! Locks are advisory file locks (`flock` on Unix): `.revalign.lock` is held by a run
//! from start to end, so a second run into the same folder fails at once with a clear
//! message; `.revalign-publish.lock` is held exclusively while a journal is carried
//! out and shared by `revalign query` while it reads.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

const RUN_LOCK: &str = ".revalign.lock";
const PUBLISH_LOCK: &str = ".revalign-publish.lock";
const JOURNAL: &str = ".revalign-journal.json";
/// Prefix of a run's staging folder inside `--out`.
pub const STAGING_PREFIX: &str = ".revalign-staging-";
/// Where a journal keeps what it replaced, inside the staging folder.
const TRASH: &str = "replaced";

/// The steps of one publish.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Journal {
    /// The staging folder's name inside `--out`.
    pub staging: String,
    /// Folders moved from the staging folder to the same relative path in `--out`
    /// (partitions, the month's report folder).
    pub moves: Vec<String>,
    /// Published folders this run does not produce any more (stale partitions),
    /// relative to `--out`.
    pub removes: Vec<String>,
}

/// Simulated failures for the publish tests: after this many file-system steps of a
/// publish, fail (as a step error would) or abort the process (as `kill -9` would).
/// The binary reads `REVALIGN_TEST_ABORT_AFTER_PUBLISH_STEPS`; nothing else sets it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FaultHook {
    #[default]
    None,
    ErrorAfter(usize),
    AbortAfter(usize),
}

impl FaultHook {
    pub fn from_env() -> FaultHook {
        std::env::var("REVALIGN_TEST_ABORT_AFTER_PUBLISH_STEPS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(FaultHook::None, FaultHook::AbortAfter)
    }
}

/// Counts the file-system steps of a publish and fires the [`FaultHook`].
struct Steps {
    done: usize,
    hook: FaultHook,
}

impl Steps {
    fn step(&mut self, what: &Path) -> Result<()> {
        self.done += 1;
        match self.hook {
            FaultHook::AbortAfter(n) if self.done > n => std::process::abort(),
            FaultHook::ErrorAfter(n) if self.done > n => Err(Error::Io {
                path: what.to_path_buf(),
                source: std::io::Error::other("simulated publish failure (test hook)"),
            }),
            _ => Ok(()),
        }
    }
}

/// The lock a run holds on its `--out` from start to end.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// Lock `out` for a run (creating it), then settle what an earlier run left: carry out
/// an interrupted publish and delete abandoned staging folders. Fails at once when
/// another run holds the lock.
pub fn lock_for_run(out: &Path) -> Result<RunLock> {
    std::fs::create_dir_all(out).at(out)?;
    let path = out.join(RUN_LOCK);
    let mut file = open_lock_file(&path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(Error::Locked(format!(
                "another revalign run{} is writing to {}; wait for it to finish or use another --out",
                if holder.is_empty() {
                    String::new()
                } else {
                    format!(" ({holder})")
                },
                out.display()
            )));
        }
        Err(std::fs::TryLockError::Error(source)) => return Err(Error::Io { path, source }),
    }
    file.set_len(0).at(&path)?;
    file.rewind().at(&path)?;
    let _ = write!(file, "pid {}", std::process::id());
    let lock = RunLock { _file: file };
    let publish = PublishLock::exclusive(out)?;
    recover(out)?;
    drop(publish);
    sweep_staging(out)?;
    Ok(lock)
}

/// Open (creating) a lock file. A lock file that is a symbolic link is refused, never
/// followed: whoever can write to a shared `--out` must not be able to make a run
/// overwrite another file.
fn open_lock_file(path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path).map_err(|source| {
        let symlink = path
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink());
        if symlink {
            Error::Publish(format!(
                "{} is a symbolic link; revalign's lock files must be plain files: remove it",
                path.display()
            ))
        } else {
            Error::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

/// Held while a journal is written and carried out (exclusive) or while outputs are
/// read (shared).
#[derive(Debug)]
pub struct PublishLock {
    _file: File,
}

impl PublishLock {
    fn open(out: &Path) -> Result<(File, PathBuf)> {
        let path = out.join(PUBLISH_LOCK);
        Ok((open_lock_file(&path)?, path))
    }

    /// Wait for the exclusive lock.
    pub fn exclusive(out: &Path) -> Result<PublishLock> {
        let (file, path) = Self::open(out)?;
        file.lock().at(&path)?;
        Ok(PublishLock { _file: file })
    }

    /// For readers of `out`: settle an interrupted publish first, then hold a shared
    /// lock so no publish starts while they read. `None` when `out` does not exist or
    /// cannot be written (a read-only copy of outputs is read as it is).
    pub fn for_reading(out: &Path) -> Result<Option<PublishLock>> {
        if !out.join("tables").is_dir() && !out.join(JOURNAL).exists() {
            return Ok(None); // no outputs here: nothing to settle, no lock file to leave
        }
        let Ok((file, path)) = Self::open(out) else {
            return Ok(None);
        };
        file.lock().at(&path)?;
        recover(out)?;
        file.unlock().at(&path)?;
        file.lock_shared().at(&path)?;
        Ok(Some(PublishLock { _file: file }))
    }
}

/// Publish the staging folder `staging` (inside `out`) as `journal` says: commit the
/// journal, carry it out, clean up. On a step error the steps done are undone and the
/// error returned; the previous outputs are then intact.
pub fn publish(out: &Path, journal: &Journal, hook: FaultHook) -> Result<()> {
    let _lock = PublishLock::exclusive(out)?;
    let mut steps = Steps { done: 0, hook };
    let journal_path = out.join(JOURNAL);
    let staging = out.join(&journal.staging);
    let committed = steps
        .step(&journal_path)
        .and_then(|()| write_atomically(&journal_path, &serde_json::to_vec_pretty(journal)?));
    if let Err(error) = committed {
        let _ = std::fs::remove_file(&journal_path);
        let _ = std::fs::remove_dir_all(&staging);
        return Err(error);
    }
    let carried_out = steps
        .step(&journal_path)
        .and_then(|()| roll_forward(out, journal, &mut steps))
        .and_then(|()| steps.step(&journal_path));
    if let Err(error) = carried_out {
        if let Err(undo) = roll_back(out, journal) {
            return Err(Error::Publish(format!(
                "publishing failed ({error}) and undoing it failed too ({undo}); the journal \
                 {} is kept: the next run or `revalign query` on {} retries it",
                journal_path.display(),
                out.display()
            )));
        }
        remove_journal(out)?;
        let _ = std::fs::remove_dir_all(&staging);
        return Err(error);
    }
    remove_journal(out)?;
    // Published. What is left is cleaning up, which the next run also does.
    let _ = steps.step(&staging);
    let _ = std::fs::remove_dir_all(&staging);
    Ok(())
}

/// Carry out a journal left by an interrupted run, if there is one; the caller holds
/// the exclusive publish lock.
fn recover(out: &Path) -> Result<()> {
    let path = out.join(JOURNAL);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(Error::Io { path, source }),
    };
    let journal: Journal = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Publish(format!(
            "{}: unreadable publish journal ({e}); it was left by an interrupted run: \
             restore the outputs from a backup or delete the journal and rerun",
            path.display()
        ))
    })?;
    let mut steps = Steps {
        done: 0,
        hook: FaultHook::None,
    };
    if let Err(error) = roll_forward(out, &journal, &mut steps) {
        roll_back(out, &journal).map_err(|undo| {
            Error::Publish(format!(
                "an interrupted publish in {} can be neither completed ({error}) nor undone \
                 ({undo}); fix the cause and rerun",
                out.display()
            ))
        })?;
    }
    remove_journal(out)?;
    let staging = out.join(&journal.staging);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).at(&staging)?;
    }
    Ok(())
}

fn trash_of_move(staging: &Path, i: usize) -> PathBuf {
    staging.join(TRASH).join(format!("m{i}"))
}

fn trash_of_remove(staging: &Path, i: usize) -> PathBuf {
    staging.join(TRASH).join(format!("r{i}"))
}

/// Every step of the journal not yet done, in order.
fn roll_forward(out: &Path, journal: &Journal, steps: &mut Steps) -> Result<()> {
    let staging = out.join(&journal.staging);
    let trash = staging.join(TRASH);
    std::fs::create_dir_all(&trash).at(&trash)?;
    for (i, m) in journal.moves.iter().enumerate() {
        let (from, to) = (staging.join(m), out.join(m));
        if !from.exists() {
            continue; // moved already
        }
        if to.exists() {
            let old = trash_of_move(&staging, i);
            rename(&to, &old)?;
            steps.step(&to)?;
        }
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).at(parent)?;
        }
        rename(&from, &to)?;
        steps.step(&to)?;
    }
    for (i, r) in journal.removes.iter().enumerate() {
        let stale = out.join(r);
        if stale.exists() {
            rename(&stale, &trash_of_remove(&staging, i))?;
            steps.step(&stale)?;
        }
        remove_if_empty(stale.parent());
    }
    Ok(())
}

/// Undo the steps of the journal that were done, in reverse order.
fn roll_back(out: &Path, journal: &Journal) -> Result<()> {
    let staging = out.join(&journal.staging);
    for (i, r) in journal.removes.iter().enumerate().rev() {
        let old = trash_of_remove(&staging, i);
        if old.exists() {
            let stale = out.join(r);
            if let Some(parent) = stale.parent() {
                std::fs::create_dir_all(parent).at(parent)?;
            }
            rename(&old, &stale)?;
        }
    }
    for (i, m) in journal.moves.iter().enumerate().rev() {
        let (from, to) = (staging.join(m), out.join(m));
        let old = trash_of_move(&staging, i);
        if !from.exists() && to.exists() {
            if let Some(parent) = from.parent() {
                std::fs::create_dir_all(parent).at(parent)?;
            }
            rename(&to, &from)?;
        }
        if old.exists() {
            rename(&old, &to)?;
        } else {
            remove_if_empty(to.parent());
        }
    }
    Ok(())
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|source| Error::Io {
        path: to.to_path_buf(),
        source: std::io::Error::new(
            source.kind(),
            format!("moving {} here: {source}", from.display()),
        ),
    })
}

/// A table folder left without partitions is removed: readers would see a table with
/// no files, which some cannot read.
fn remove_if_empty(dir: Option<&Path>) {
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir(dir); // fails, as wanted, when not empty
    }
}

fn remove_journal(out: &Path) -> Result<()> {
    let path = out.join(JOURNAL);
    std::fs::remove_file(&path).at(&path)?;
    sync_dir(out);
    Ok(())
}

/// Write `bytes` to `path` so that `path` holds either nothing or all of them, even
/// after a crash.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    // Created anew (O_EXCL does not follow a symbolic link planted in its place).
    let _ = std::fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .at(&tmp)?;
    file.write_all(bytes).at(&tmp)?;
    file.sync_all().at(&tmp)?;
    std::fs::rename(&tmp, path).at(path)?;
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    Ok(())
}

/// Make a rename in `dir` durable (best effort: not every platform can open a folder).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Delete staging folders of runs that died before publishing; the caller holds the
/// run lock, so none of them is live.
fn sweep_staging(out: &Path) -> Result<()> {
    for entry in std::fs::read_dir(out).at(out)?.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(STAGING_PREFIX) {
            let path = entry.path();
            std::fs::remove_dir_all(&path).at(&path)?;
        }
    }
    Ok(())
}
