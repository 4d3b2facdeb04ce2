// The control mailbox between processes: a requester that gives up says whether the owner had taken the
// request (so the user knows whether it may still apply), and replies nobody collected are removed.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sendControlRequest, serveControlRequests } from "../extensions/workflows/store/run-mailbox.js";

describe("the control mailbox", () => {
	let runDir: string;
	const warnings: string[] = [];
	beforeEach(() => {
		runDir = mkdtempSync(join(tmpdir(), "pi-workflows-mailbox-"));
		warnings.length = 0;
	});
	afterEach(() => rmSync(runDir, { recursive: true, force: true }));

	it("with no owner taking the request: says nothing was changed, and takes the request back", async () => {
		const reply = await sendControlRequest(runDir, { type: "pause" }, { timeoutMs: 200 });
		expect(reply).toEqual({
			ok: false,
			message: "the process that owns the run did not take the request within 0.2 s; nothing was changed",
		});
		expect(readdirSync(join(runDir, "control"))).toEqual([]);
	});

	it("with an owner that took the request and has not answered: says it may still apply", async () => {
		let finish: () => void = () => undefined;
		const taken = new Promise<void>((resolve) => {
			const stop = serveControlRequests(
				runDir,
				() =>
					new Promise((done) => {
						resolve();
						finish = () => {
							done({ ok: true, message: "applied late" });
							stop();
						};
					}),
				(message) => warnings.push(message),
			);
		});
		const reply = sendControlRequest(runDir, { type: "pause" }, { timeoutMs: 300 });
		await taken;
		expect(await reply).toEqual({
			ok: false,
			message:
				"the process that owns the run took the request but did not answer within 0.3 s; it may still apply it: check the run's status",
		});
		finish();
		expect(warnings).toEqual([]);
	});

	it("removes replies nobody collected once they are a minute old, and leaves fresh ones", async () => {
		const control = join(runDir, "control");
		mkdirSync(control);
		const old = join(control, "old.reply.json");
		const fresh = join(control, "fresh.reply.json");
		writeFileSync(old, "{}");
		writeFileSync(fresh, "{}");
		const minuteAgo = new Date(Date.now() - 61_000);
		utimesSync(old, minuteAgo, minuteAgo);
		// The owner goes through the folder when it starts serving and on every request.
		const stop = serveControlRequests(
			runDir,
			() => ({ ok: true, message: "done" }),
			(message) => warnings.push(message),
		);
		try {
			expect(await sendControlRequest(runDir, { type: "cancel" })).toEqual({ ok: true, message: "done" });
			expect(existsSync(old)).toBe(false);
			expect(existsSync(fresh)).toBe(true);
		} finally {
			stop();
		}
	});
});
