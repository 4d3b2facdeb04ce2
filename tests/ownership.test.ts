// Ownership that holds: an owner that lost its run (another process took it over while it slept) stops and
// writes nothing more; it never removes a lock that is not its own; on this host a live owner keeps its run
// however old its heartbeat, while a zombie or a reused pid does not; a lock that cannot be read, or that
// another host holds, is refused with a message naming the run and the owner, and no journal line is written.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryRunStore } from "../extensions/workflows/store/memory-store.js";
import { acquireRunLock, inspectLock, lockPath } from "../extensions/workflows/store/run-lock.js";
import { deferred, twoStages } from "./support/fixtures.js";
import { createHarness, type Harness } from "./support/harness.js";

const quiet = { onLost: () => undefined, onWarning: () => undefined };

/** This process's start time as /proc has it (the field the lock records). */
function ownStart(): string {
	const stat = readFileSync("/proc/self/stat", "utf8");
	return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] as string;
}

/** Leaves a finished run as a process that died during "second" would, with the given claim in run.lock. */
function crashWithClaim(harness: Harness, runId: string, claim: Record<string, unknown>, heartbeatAgeMs = 0): string {
	const paths = harness.store.paths(runId);
	const lines = readFileSync(paths.journal, "utf8").trim().split("\n");
	const second = lines.findIndex((line) => line.includes('"node_started"') && line.includes('"second"'));
	writeFileSync(paths.journal, `${lines.slice(0, second + 1).join("\n")}\n`);
	const at = new Date(Date.now() - heartbeatAgeMs);
	const lock = lockPath(paths.runDir);
	writeFileSync(
		lock,
		JSON.stringify({ host: hostname(), acquiredAt: at.toISOString(), heartbeatAt: at.toISOString(), ...claim }),
	);
	utimesSync(lock, at, at);
	return readFileSync(paths.journal, "utf8");
}

describe("an owner that lost its run", () => {
	let harness: Harness;
	afterEach(() => harness.cleanup());

	it("stops, reports lost ownership, and journals nothing after the takeover", async () => {
		const inSecond = deferred();
		const release = deferred();
		harness = await createHarness(async (request) => {
			if (request.stage === "second") {
				inSecond.resolve();
				await release.promise;
			}
			return `answer of ${request.stage}`;
		});
		const store = new MemoryRunStore(harness.cwd);
		const run = harness.start(twoStages, {}, { store });
		await inSecond.promise;
		const before = store.read(run.runId).events.length;
		store.takeOver(run.runId);
		release.resolve();
		const report = await run.done;

		expect(report.status).toBe("interrupted");
		expect(report.reason).toMatch(/^lost ownership of the run/);
		expect(store.read(run.runId).events).toHaveLength(before);
	});
});

describe("run.lock", () => {
	let dir: string;
	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), "pi-workflows-lock-"));
	});
	afterEach(() => rmSync(dir, { recursive: true, force: true }));

	const forge = (token: string) =>
		writeFileSync(
			lockPath(dir),
			JSON.stringify({
				pid: process.pid,
				host: hostname(),
				acquiredAt: new Date().toISOString(),
				heartbeatAt: new Date().toISOString(),
				token,
			}),
		);

	it("release removes only a claim that is still this process's own", () => {
		const taken = acquireRunLock(dir, quiet);
		if (!taken.ok) throw new Error(taken.error);
		forge("someone-else");
		taken.lease.release();
		expect(JSON.parse(readFileSync(lockPath(dir), "utf8")).token).toBe("someone-else");
	});

	it("a lock that became unreadable is a lost claim, reported, never a crash", async () => {
		const lost = deferred<string>();
		const taken = acquireRunLock(dir, { onLost: lost.resolve, onWarning: () => undefined });
		if (!taken.ok) throw new Error(taken.error);
		rmSync(lockPath(dir));
		mkdirSync(lockPath(dir));
		expect(await lost.promise).toMatch(/^lost ownership of the run: its lock now names an unreadable lock/);
		taken.lease.release();
		expect(inspectLock(dir).state).toBe("unreadable");
	});

	it("the heartbeat notices a claim that is not its own and reports the loss", async () => {
		const lost = deferred<string>();
		const taken = acquireRunLock(dir, { onLost: lost.resolve, onWarning: () => undefined });
		if (!taken.ok) throw new Error(taken.error);
		forge("someone-else");
		expect(await lost.promise).toMatch(/^lost ownership of the run: its lock now names process \d+ on /);
		expect(taken.lease.check()).toEqual({ ok: false, error: await lost.promise });
		taken.lease.release();
	});
});

describe("who owns a run on this host", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	it("a live owner keeps its run however old its heartbeat (a stopped or busy process)", async () => {
		const first = await harness.run(twoStages, {});
		const journal = crashWithClaim(
			harness,
			first.runId,
			{ pid: process.pid, processStart: ownStart(), token: "t" },
			3_600_000,
		);
		expect(inspectLock(harness.store.paths(first.runId).runDir).state).toBe("owned");
		expect(() => harness.resume(twoStages, first.runId)).toThrow(
			new RegExp(`cannot be resumed: the run is owned by process ${process.pid} on ${hostname()}`),
		);
		expect(readFileSync(harness.store.paths(first.runId).journal, "utf8")).toBe(journal);
	});

	it("a reused pid (the same pid, another process start) is no owner", async () => {
		const first = await harness.run(twoStages, {});
		crashWithClaim(harness, first.runId, { pid: process.pid, processStart: "1", token: "t" });
		expect(inspectLock(harness.store.paths(first.runId).runDir).state).toBe("stale");
		expect((await harness.resume(twoStages, first.runId).done).status).toBe("completed");
	});

	it("a zombie (a dead owner nobody reaped) is no owner", async () => {
		// The shell forks `sleep 0.05`, prints its pid, then becomes `sleep 30`, which never reaps it.
		const parent = spawn("sh", ["-c", "sleep 0.05 & echo $!; exec sleep 30"], {
			stdio: ["ignore", "pipe", "ignore"],
		});
		try {
			const pid = Number(
				await new Promise<string>((resolve) => parent.stdout.once("data", (chunk) => resolve(String(chunk)))),
			);
			await waitForZombie(pid);
			const first = await harness.run(twoStages, {});
			crashWithClaim(harness, first.runId, { pid, token: "t" });
			expect(inspectLock(harness.store.paths(first.runId).runDir).state).toBe("stale");
			expect((await harness.resume(twoStages, first.runId).done).status).toBe("completed");
		} finally {
			parent.kill("SIGKILL");
		}
	});
});

describe("locks that are refused, changing nothing", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	it("a lock file with garbage in it", async () => {
		const first = await harness.run(twoStages, {});
		const paths = harness.store.paths(first.runId);
		const journal = crashWithClaim(harness, first.runId, { pid: 1 });
		writeFileSync(lockPath(paths.runDir), "not a lock");
		expect(() => harness.resume(twoStages, first.runId)).toThrow(
			`Workflow "two-stages", run ${first.runId} cannot be resumed: its lock file ${lockPath(paths.runDir)} holds no owner this version can read ("not a lock"); if no process runs it, delete that file and try again.`,
		);
		expect(readFileSync(paths.journal, "utf8")).toBe(journal);
	});

	it("another host's lock: refused while its heartbeat is fresh, taken over once it is stale", async () => {
		const first = await harness.run(twoStages, {});
		const paths = harness.store.paths(first.runId);
		const journal = crashWithClaim(harness, first.runId, { pid: 4242, host: "elsewhere", token: "t" });
		expect(() => harness.resume(twoStages, first.runId)).toThrow(
			/the run is owned by process 4242 on elsewhere \(heartbeat /,
		);
		expect(readFileSync(paths.journal, "utf8")).toBe(journal);

		crashWithClaim(harness, first.runId, { pid: 4242, host: "elsewhere", token: "t" }, 60_000);
		expect((await harness.resume(twoStages, first.runId).done).status).toBe("completed");
	});
});

async function waitForZombie(pid: number): Promise<void> {
	for (let tries = 0; tries < 500; tries++) {
		const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
		if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return;
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
	throw new Error(`process ${pid} never became a zombie`);
}
