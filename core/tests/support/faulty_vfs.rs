//! A SQLite VFS for fault injection: it delegates every call to the
//! default VFS ("unix") and, on demand, refuses writes that would grow a
//! file (a full disk: `SQLITE_FULL`) or fails the Nth write or sync
//! (`SQLITE_IOERR_WRITE`, `SQLITE_IOERR_FSYNC`). A store uses it when
//! opened with the URI [`uri`] gives (SQLite opens `file:` names as URIs).
//!
//! The switches are process-wide: a test that uses them holds [`lock`].
#![allow(dead_code)]

use std::ffi::{CStr, c_int, c_void};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

use rusqlite::ffi;

const NAME: &CStr = c"actioncenter-faulty";

/// Writes that would make a file longer fail with `SQLITE_FULL`.
static FULL: AtomicBool = AtomicBool::new(false);
/// Writes and syncs counted since [`fail_at`].
static CALLS: AtomicU64 = AtomicU64::new(0);
/// The write or sync to fail (from 1); 0 for none.
static FAIL_AT: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);

/// Serializes the tests that move the switches.
pub fn lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    set_full(false);
    fail_at(0);
    guard
}

/// The name to open `path` with through this VFS.
pub fn uri(path: &Path) -> String {
    register();
    let name = NAME.to_str().expect("ascii");
    format!("file:{}?vfs={name}", path.display())
}

/// Turns the full disk on or off.
pub fn set_full(full: bool) {
    FULL.store(full, Ordering::SeqCst);
}

/// Fails the `n`th write or sync from now (0: none), once.
pub fn fail_at(n: u64) {
    CALLS.store(0, Ordering::SeqCst);
    FAILED.store(0, Ordering::SeqCst);
    FAIL_AT.store(n, Ordering::SeqCst);
}

/// Writes and syncs since the last [`fail_at`].
pub fn calls() -> u64 {
    CALLS.load(Ordering::SeqCst)
}

/// Whether the chosen write or sync was failed.
pub fn failed() -> bool {
    FAILED.load(Ordering::SeqCst) > 0
}

fn tick() -> bool {
    let n = CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    let fails = n == FAIL_AT.load(Ordering::SeqCst);
    if fails {
        FAILED.fetch_add(1, Ordering::SeqCst);
    }
    fails
}

/// Our file: SQLite's header, then the default VFS's file in the same
/// allocation.
#[repr(C)]
struct ShimFile {
    base: ffi::sqlite3_file,
    _align: u64,
}

/// The default VFS, set once by [`register`].
static REAL: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(std::ptr::null_mut());

fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_vfs_find initializes SQLite and returns the
        // default VFS, which lives as long as the process. Ours is a copy
        // with its own name, file size and xOpen, leaked so that it lives
        // as long too; REAL is set here, before it is registered.
        unsafe {
            let real = ffi::sqlite3_vfs_find(std::ptr::null());
            assert!(!real.is_null(), "no default SQLite VFS");
            REAL.store(real, Ordering::SeqCst);
            let mut ours: ffi::sqlite3_vfs = *real;
            ours.zName = NAME.as_ptr();
            ours.pNext = std::ptr::null_mut();
            ours.szOsFile = (*real).szOsFile + std::mem::size_of::<ShimFile>() as c_int;
            ours.xOpen = Some(x_open);
            let ours = Box::leak(Box::new(ours));
            let rc = ffi::sqlite3_vfs_register(ours, 0);
            assert_eq!(rc, ffi::SQLITE_OK, "register the VFS");
        }
    });
}

/// The default VFS's file inside ours.
unsafe fn inner(f: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    // SAFETY: SQLite allocated szOsFile bytes for `f`: ours, then theirs.
    unsafe { f.cast::<u8>().add(std::mem::size_of::<ShimFile>()).cast() }
}

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    f: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: REAL was set before this VFS was registered; `f` has room
    // for both files (szOsFile).
    unsafe {
        let real = REAL.load(Ordering::SeqCst);
        let i = inner(f);
        (*i).pMethods = std::ptr::null();
        let rc = ((*real).xOpen.expect("xOpen"))(real, name, i, flags, out_flags);
        (*f).pMethods = if (*i).pMethods.is_null() {
            std::ptr::null()
        } else {
            &IO_METHODS
        };
        rc
    }
}

macro_rules! forward {
    ($f:expr, $method:ident $(, $arg:expr)*) => {{
        // SAFETY: `f` was opened by x_open, so its inner file is open
        // and has methods.
        unsafe {
            let i = inner($f);
            match (*(*i).pMethods).$method {
                Some(m) => m(i $(, $arg)*),
                None => ffi::SQLITE_IOERR,
            }
        }
    }};
}

unsafe extern "C" fn x_close(f: *mut ffi::sqlite3_file) -> c_int {
    forward!(f, xClose)
}
unsafe extern "C" fn x_read(
    f: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amt: c_int,
    ofst: ffi::sqlite3_int64,
) -> c_int {
    forward!(f, xRead, buf, amt, ofst)
}
unsafe extern "C" fn x_write(
    f: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amt: c_int,
    ofst: ffi::sqlite3_int64,
) -> c_int {
    if FULL.load(Ordering::SeqCst) {
        let mut size: ffi::sqlite3_int64 = 0;
        let rc = forward!(f, xFileSize, &mut size);
        if rc != ffi::SQLITE_OK || ofst + ffi::sqlite3_int64::from(amt) > size {
            return ffi::SQLITE_FULL;
        }
    }
    if tick() {
        return ffi::SQLITE_IOERR_WRITE;
    }
    forward!(f, xWrite, buf, amt, ofst)
}
unsafe extern "C" fn x_truncate(f: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    forward!(f, xTruncate, size)
}
unsafe extern "C" fn x_sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    if tick() {
        return ffi::SQLITE_IOERR_FSYNC;
    }
    forward!(f, xSync, flags)
}
unsafe extern "C" fn x_file_size(
    f: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    forward!(f, xFileSize, size)
}
unsafe extern "C" fn x_lock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    forward!(f, xLock, level)
}
unsafe extern "C" fn x_unlock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    forward!(f, xUnlock, level)
}
unsafe extern "C" fn x_check_reserved_lock(f: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    forward!(f, xCheckReservedLock, out)
}
unsafe extern "C" fn x_file_control(
    f: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    forward!(f, xFileControl, op, arg)
}
unsafe extern "C" fn x_sector_size(f: *mut ffi::sqlite3_file) -> c_int {
    forward!(f, xSectorSize)
}
unsafe extern "C" fn x_device_characteristics(f: *mut ffi::sqlite3_file) -> c_int {
    forward!(f, xDeviceCharacteristics)
}
unsafe extern "C" fn x_shm_map(
    f: *mut ffi::sqlite3_file,
    page: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    forward!(f, xShmMap, page, size, extend, out)
}
unsafe extern "C" fn x_shm_lock(
    f: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    forward!(f, xShmLock, offset, n, flags)
}
unsafe extern "C" fn x_shm_barrier(f: *mut ffi::sqlite3_file) {
    // SAFETY: as in `forward!`.
    unsafe {
        let i = inner(f);
        if let Some(m) = (*(*i).pMethods).xShmBarrier {
            m(i)
        }
    }
}
unsafe extern "C" fn x_shm_unmap(f: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    forward!(f, xShmUnmap, delete)
}
unsafe extern "C" fn x_fetch(
    f: *mut ffi::sqlite3_file,
    ofst: ffi::sqlite3_int64,
    amt: c_int,
    out: *mut *mut c_void,
) -> c_int {
    forward!(f, xFetch, ofst, amt, out)
}
unsafe extern "C" fn x_unfetch(
    f: *mut ffi::sqlite3_file,
    ofst: ffi::sqlite3_int64,
    p: *mut c_void,
) -> c_int {
    forward!(f, xUnfetch, ofst, p)
}

static IO_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: Some(x_fetch),
    xUnfetch: Some(x_unfetch),
};
