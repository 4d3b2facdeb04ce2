// End to end with `pi --mode rpc`: a run goes to the background, status sees it running, and the
// completion message arrives when it ends.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createPiSandbox, type PiSandbox } from "./support/pi-cli.js";
import { RpcDriver } from "./support/rpc-driver.js";

describe("pi --mode rpc /workflow", () => {
	let sandbox: PiSandbox;
	let driver: RpcDriver | undefined;
	afterEach(async () => {
		await driver?.close();
		sandbox?.cleanup();
	});

	it("returns at once, shows the run running, then completed, and posts the result", async () => {
		sandbox = createPiSandbox("");
		const gate = join(sandbox.root, "gate");
		// The scout stage holds until the test opens the gate, so "running" is observable.
		writeFileSync(
			join(sandbox.root, "script.mjs"),
			`import { existsSync } from "node:fs";
export const script = async (r) => {
	if (r.stage === "scout") while (!existsSync(${JSON.stringify(gate)})) await new Promise((done) => setTimeout(done, 10));
	return "answer of " + r.stage;
};`,
		);
		driver = new RpcDriver(sandbox);
		driver.prompt("/workflow run review-change target=rpc");
		const started = await driver.notification(/Started workflow "review-change" as run/);
		const runId = /as run (\S+)\./.exec(started)?.[1] ?? "";
		expect(runId).toMatch(/^[0-9a-z]{8}$/);

		driver.prompt(`/workflow status ${runId.slice(0, 4)}`);
		expect(await driver.notification(new RegExp(runId))).toContain(" running ");

		writeFileSync(gate, "");
		const done = await driver.waitFor(
			(message) => message.type === "message_end" && JSON.stringify(message).includes(`run ${runId} completed`),
		);
		expect(JSON.stringify(done)).toContain("workflow-run");

		driver.prompt(`/workflow status ${runId}`);
		expect(await driver.notification(new RegExp(runId))).toContain(" completed ");
		driver.prompt(`/workflow show ${runId}`);
		const shown = await driver.notification(/graph:/);
		expect(shown).toContain("synthesis <- correctness, maintainability");
	});

	it("asks for a missing required input with a dialog", async () => {
		sandbox = createPiSandbox(`export const script = (r) => "answer of " + r.stage;`);
		driver = new RpcDriver(sandbox);
		driver.prompt("/workflow run review-change");
		const request = await driver.waitFor((m) => m.type === "extension_ui_request" && m.method === "input");
		expect(String(request.title)).toContain('input "target"');
		driver.send({ type: "extension_ui_response", id: request.id, value: "from the dialog" });
		const started = await driver.notification(/Started workflow/);
		const runId = /as run (\S+)\./.exec(started)?.[1] ?? "";
		await driver.waitFor((m) => m.type === "message_end" && JSON.stringify(m).includes(`run ${runId} completed`));
		expect(sandbox.calls().find((call) => call.stage === "scout")?.transcript[0]).toContain("from the dialog");
	});
});
