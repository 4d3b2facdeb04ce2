// Ownership of a run: one process at a time drives it. The owner holds `run.lock` in the run directory
// (pid, host, heartbeat refreshed every few seconds). A lock whose process is gone (same host: the pid
// is dead; any host: no heartbeat for a while) is stale and may be taken over, through a second
// exclusive file so that of two processes racing for it exactly one wins.

import { existsSync, linkSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { writeAtomically } from "./atomic-write.js";

const HEARTBEAT_INTERVAL_MS = 2_000;
/** A lock whose heartbeat is older than this belongs to no live owner, whatever its pid says. */
const HEARTBEAT_STALE_MS = 30_000;

export interface LockOwner {
	pid: number;
	host: string;
	acquiredAt: string;
	heartbeatAt: string;
}

export type LockState =
	| { state: "free" }
	| { state: "owned"; owner: LockOwner }
	| { state: "stale"; owner: LockOwner | undefined };

export interface RunLock {
	readonly path: string;
	/** Stops the heartbeat and removes the lock file. */
	release(): void;
}

export function lockPath(runDir: string): string {
	return join(runDir, "run.lock");
}

/** Who holds the lock of a run directory, and whether that owner is alive. */
export function inspectLock(runDir: string, now = Date.now()): LockState {
	const path = lockPath(runDir);
	if (!existsSync(path)) return { state: "free" };
	const owner = readOwner(path);
	if (!owner) return { state: "stale", owner: undefined };
	return isAlive(owner, now) ? { state: "owned", owner } : { state: "stale", owner };
}

export function describeOwner(owner: LockOwner): string {
	return `process ${owner.pid} on ${owner.host} (heartbeat ${owner.heartbeatAt})`;
}

/**
 * Takes the run's lock for this process, or returns why it cannot: a live owner, or another process
 * taking over the same stale lock at this moment. Starts the heartbeat on success.
 */
export function acquireRunLock(runDir: string): { ok: true; lock: RunLock } | { ok: false; error: string } {
	const path = lockPath(runDir);
	if (tryCreate(path)) return { ok: true, lock: startHeartbeat(path) };
	const current = inspectLock(runDir);
	if (current.state === "owned") {
		return { ok: false, error: `the run is owned by ${describeOwner(current.owner)}` };
	}
	// Stale: take it over under an exclusive "takeover" file, re-checking while we hold it.
	const takeover = `${path}.takeover`;
	if (!tryCreate(takeover)) {
		// Only a takeover whose process is gone may be cleared; an unreadable one counts as live while young.
		const other = readOwner(takeover);
		const live = other ? isAlive(other, Date.now()) : ageMs(takeover) < HEARTBEAT_STALE_MS;
		if (live) {
			const who = other ? ` (${describeOwner(other)})` : "";
			return { ok: false, error: `another process${who} is taking the run over right now` };
		}
		rmSync(takeover, { force: true });
		if (!tryCreate(takeover)) return { ok: false, error: "another process is taking the run over right now" };
	}
	try {
		const again = inspectLock(runDir);
		if (again.state === "owned") return { ok: false, error: `the run is owned by ${describeOwner(again.owner)}` };
		rmSync(path, { force: true });
		if (!tryCreate(path)) return { ok: false, error: "another process took the run over first" };
		return { ok: true, lock: startHeartbeat(path) };
	} finally {
		rmSync(takeover, { force: true });
	}
}

function startHeartbeat(path: string): RunLock {
	const acquiredAt = readOwner(path)?.acquiredAt ?? new Date().toISOString();
	const timer = setInterval(() => {
		try {
			writeAtomically(path, ownerLine(acquiredAt));
		} catch {
			// A failed heartbeat only makes the lock look older; the next one tries again.
		}
	}, HEARTBEAT_INTERVAL_MS);
	timer.unref?.();
	let released = false;
	return {
		path,
		release: () => {
			if (released) return;
			released = true;
			clearInterval(timer);
			rmSync(path, { force: true });
		},
	};
}

/** Creates `path` with this process's owner line, only if it does not exist. The line is written to a
 * temporary file first and linked into place, so no reader ever sees the file empty or half written. */
function tryCreate(path: string): boolean {
	const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
	writeFileSync(temporary, ownerLine(new Date().toISOString()));
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

function ownerLine(acquiredAt: string): string {
	const owner: LockOwner = { pid: process.pid, host: hostname(), acquiredAt, heartbeatAt: new Date().toISOString() };
	return `${JSON.stringify(owner)}\n`;
}

function readOwner(path: string): LockOwner | undefined {
	try {
		const owner = JSON.parse(readFileSync(path, "utf8")) as Partial<LockOwner>;
		if (typeof owner.pid !== "number" || typeof owner.host !== "string" || typeof owner.heartbeatAt !== "string") {
			return undefined;
		}
		return owner as LockOwner;
	} catch {
		return undefined;
	}
}

function ageMs(path: string): number {
	try {
		return Date.now() - statSync(path).mtimeMs;
	} catch {
		return Number.POSITIVE_INFINITY;
	}
}

function isAlive(owner: LockOwner, now: number): boolean {
	if (now - Date.parse(owner.heartbeatAt) > HEARTBEAT_STALE_MS) return false;
	if (owner.host !== hostname()) return true;
	return pidAlive(owner.pid);
}

function pidAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		// EPERM: the process exists but belongs to someone else.
		return (error as NodeJS.ErrnoException).code === "EPERM";
	}
}
