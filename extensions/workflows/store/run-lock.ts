// Ownership of a run: one process at a time drives it. The owner holds `run.lock` in the run directory: a
// claim written once (pid, host, the process's start time, a random token) whose modification time is the
// heartbeat, touched every few seconds. Whether the owner lives:
// - same host: its pid runs, is no zombie, and (where the start time can be read) is the same process, not
//   a reused pid; a live owner keeps its run even when its heartbeat is old (a stopped or busy process);
// - another host: its heartbeat is younger than HEARTBEAT_STALE_MS.
// A dead owner's lock is taken over through a second exclusive file, so of two racing processes one wins.
// The owner checks its claim on every heartbeat (and before it writes after a pause): a claim that is no
// longer its own means another process took the run over, and the owner stops writing.

import { randomBytes } from "node:crypto";
import { existsSync, linkSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

const HEARTBEAT_INTERVAL_MS = 2_000;
/** An owner on another host whose heartbeat is older than this is gone. */
const HEARTBEAT_STALE_MS = 30_000;
/** The owner re-reads its claim before writing when it last saw it longer ago than this (it may have slept). */
const RECHECK_AFTER_MS = 2 * HEARTBEAT_INTERVAL_MS;

export interface LockOwner {
	pid: number;
	host: string;
	acquiredAt: string;
	/** The last heartbeat (the lock file's modification time). */
	heartbeatAt: string;
	/** Identifies one acquisition; absent in locks written by older versions. */
	token?: string;
	/** The owner process's start time as the system counts it (Linux), to tell it from a reused pid. */
	processStart?: string;
}

export type LockState =
	| { state: "free" }
	| { state: "owned"; owner: LockOwner }
	| { state: "stale"; owner: LockOwner }
	/** The file is there but holds no claim this version can read. */
	| { state: "unreadable"; content: string };

/** This process's ownership of a run. */
export interface RunLease {
	readonly path: string;
	/** Whether the claim is still this process's (re-read when the last look is old); the reason when not. */
	check(): { ok: true } | { ok: false; error: string };
	/** Stops the heartbeat and removes the lock, only if it is still this process's claim. */
	release(): void;
}

export interface LeaseEvents {
	/** Another process took the run over: stop, and write nothing more. */
	onLost(reason: string): void;
	/** A heartbeat could not be written (the lock looks older to others until the next one succeeds). */
	onWarning(message: string): void;
}

export function lockPath(runDir: string): string {
	return join(runDir, "run.lock");
}

/** Who holds the lock of a run directory, and whether that owner is alive. */
export function inspectLock(runDir: string, now = Date.now()): LockState {
	const path = lockPath(runDir);
	if (!existsSync(path)) return { state: "free" };
	const read = readClaim(path);
	if (!read.ok) return read.missing ? { state: "free" } : { state: "unreadable", content: read.content };
	return isAlive(read.owner, now) ? { state: "owned", owner: read.owner } : { state: "stale", owner: read.owner };
}

export function describeOwner(owner: LockOwner): string {
	return `process ${owner.pid} on ${owner.host} (heartbeat ${owner.heartbeatAt})`;
}

/**
 * Takes the run's lock for this process, or says why it cannot: a live owner, a lock it cannot read, or
 * another process taking over the same stale lock at this moment. Starts the heartbeat on success.
 */
export function acquireRunLock(
	runDir: string,
	events: LeaseEvents,
): { ok: true; lease: RunLease } | { ok: false; error: string } {
	const path = lockPath(runDir);
	const token = randomBytes(12).toString("hex");
	if (tryCreate(path, token)) return { ok: true, lease: startLease(path, token, events) };
	const refusal = cannotTake(inspectLock(runDir), path);
	if (refusal) return { ok: false, error: refusal };
	// Stale: take it over under an exclusive "takeover" file, re-checking while it is held.
	const takeover = `${path}.takeover`;
	if (!tryCreate(takeover, token)) {
		const other = readClaim(takeover);
		const live = other.ok ? isAlive(other.owner, Date.now()) : ageMs(takeover) < HEARTBEAT_STALE_MS;
		if (live) {
			const who = other.ok ? ` (${describeOwner(other.owner)})` : "";
			return { ok: false, error: `another process${who} is taking the run over right now` };
		}
		rmSync(takeover, { force: true });
		if (!tryCreate(takeover, token)) return { ok: false, error: "another process is taking the run over right now" };
	}
	try {
		const again = cannotTake(inspectLock(runDir), path);
		if (again) return { ok: false, error: again };
		rmSync(path, { force: true });
		if (!tryCreate(path, token)) return { ok: false, error: "another process took the run over first" };
		return { ok: true, lease: startLease(path, token, events) };
	} finally {
		rmSync(takeover, { force: true });
	}
}

function cannotTake(state: LockState, path: string): string | undefined {
	if (state.state === "owned") return `the run is owned by ${describeOwner(state.owner)}`;
	if (state.state === "unreadable") {
		return `its lock file ${path} holds no owner this version can read (${JSON.stringify(state.content.slice(0, 80))}); if no process runs it, delete that file and try again`;
	}
	return undefined;
}

function startLease(path: string, token: string, events: LeaseEvents): RunLease {
	let lost: string | undefined;
	let released = false;
	let checkedAt = Date.now();
	let heartbeatFailing = false;
	const verify = (): string | undefined => {
		if (lost || released) return lost;
		const read = readClaim(path);
		if (!read.ok || read.owner.token !== token) {
			const now = read.ok
				? describeOwner(read.owner)
				: read.missing
					? "no one (the lock file is gone)"
					: "an unreadable lock";
			lost = `lost ownership of the run: its lock now names ${now}`;
			clearInterval(timer);
			events.onLost(lost);
			return lost;
		}
		checkedAt = Date.now();
		return undefined;
	};
	const timer = setInterval(() => {
		try {
			if (verify()) return;
			const now = new Date();
			utimesSync(path, now, now);
			heartbeatFailing = false;
		} catch (error) {
			// Said once per failing streak; the lock looks older to others until a heartbeat succeeds again.
			if (!heartbeatFailing) events.onWarning(`heartbeat of ${path} failed: ${(error as Error).message}`);
			heartbeatFailing = true;
		}
	}, HEARTBEAT_INTERVAL_MS);
	timer.unref?.();
	return {
		path,
		check: () => {
			const reason = lost ?? (Date.now() - checkedAt > RECHECK_AFTER_MS ? verify() : undefined);
			return reason ? { ok: false, error: reason } : { ok: true };
		},
		release: () => {
			if (released) return;
			released = true;
			clearInterval(timer);
			const read = readClaim(path);
			if (read.ok && read.owner.token === token) rmSync(path, { force: true });
		},
	};
}

/** Creates `path` with this process's claim, only if it does not exist. The claim is written to a temporary
 * file first and linked into place, so no reader ever sees the file empty or half written. */
function tryCreate(path: string, token: string): boolean {
	const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
	writeFileSync(temporary, claimLine(token));
	try {
		linkSync(temporary, path);
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
		throw error;
	} finally {
		rmSync(temporary, { force: true });
	}
}

function claimLine(token: string): string {
	const now = new Date().toISOString();
	const start = processStart(process.pid);
	const owner: LockOwner = {
		pid: process.pid,
		host: hostname(),
		acquiredAt: now,
		heartbeatAt: now,
		token,
		...(start ? { processStart: start } : {}),
	};
	return `${JSON.stringify(owner)}\n`;
}

type ClaimRead = { ok: true; owner: LockOwner } | { ok: false; missing: boolean; content: string };

function readClaim(path: string): ClaimRead {
	let content: string;
	let modified: number;
	try {
		content = readFileSync(path, "utf8");
		modified = statSync(path).mtimeMs;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "ENOENT") return { ok: false, missing: true, content: "" };
		// Unreadable (a folder in its place, no permission): no claim anyone can rely on.
		return { ok: false, missing: false, content: `(unreadable: ${(error as Error).message})` };
	}
	let owner: Partial<LockOwner>;
	try {
		owner = JSON.parse(content) as Partial<LockOwner>;
	} catch {
		return { ok: false, missing: false, content };
	}
	if (typeof owner.pid !== "number" || typeof owner.host !== "string" || typeof owner.heartbeatAt !== "string") {
		return { ok: false, missing: false, content };
	}
	// The heartbeat is the file's modification time (older versions rewrote heartbeatAt instead).
	const heartbeat = Math.max(modified, Date.parse(owner.heartbeatAt) || 0);
	return { ok: true, owner: { ...(owner as LockOwner), heartbeatAt: new Date(heartbeat).toISOString() } };
}

function ageMs(path: string): number {
	try {
		return Date.now() - statSync(path).mtimeMs;
	} catch {
		return Number.POSITIVE_INFINITY;
	}
}

function isAlive(owner: LockOwner, now: number): boolean {
	const fresh = now - Date.parse(owner.heartbeatAt) <= HEARTBEAT_STALE_MS;
	if (owner.host !== hostname()) return fresh;
	const proc = processState(owner.pid);
	if (proc === "gone" || proc === "zombie") return false;
	const start = processStart(owner.pid);
	// The same process (its start time matches): alive, however old its heartbeat.
	if (owner.processStart && start) return owner.processStart === start;
	// Without start times a reused pid cannot be told apart: trust the pid only with a fresh heartbeat.
	return fresh;
}

/** Whether a pid runs, as far as this host can tell. */
function processState(pid: number): "running" | "zombie" | "gone" {
	try {
		process.kill(pid, 0);
	} catch (error) {
		// EPERM: the process exists but belongs to someone else.
		if ((error as NodeJS.ErrnoException).code !== "EPERM") return "gone";
	}
	return procStat(pid)?.state === "Z" ? "zombie" : "running";
}

function processStart(pid: number): string | undefined {
	return procStat(pid)?.start;
}

/** State and start time of a process from /proc (Linux); undefined where /proc has no such file. */
function procStat(pid: number): { state: string; start: string } | undefined {
	let stat: string;
	try {
		stat = readFileSync(`/proc/${pid}/stat`, "utf8");
	} catch {
		return undefined;
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
	const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
	const state = fields[0];
	const start = fields[19];
	return state && start ? { state, start } : undefined;
}
