// End to end with `pi --mode rpc`: a run goes to the background, status sees it running, and the
// completion message arrives when it ends.

import { writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { createPiSandbox, type PiSandbox, writeProjectWorkflow } from "./support/pi-cli.js";
import { createGatedReviewSandbox, REVIEW_ANSWERS } from "./support/review-script.js";
import { RpcDriver } from "./support/rpc-driver.js";

describe("pi --mode rpc /workflow", () => {
	let sandbox: PiSandbox;
	let driver: RpcDriver | undefined;
	afterEach(async () => {
		await driver?.close();
		sandbox?.cleanup();
	});

	it("returns at once, shows the run running, then completed, and posts the result", async () => {
		const gated = createGatedReviewSandbox();
		sandbox = gated;
		const gate = gated.gate;
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
		expect(shown).toMatch(/✓ \[tool\] findings .*<- correctness, maintainability\n\s*✓ synthesis /);
	});

	it("asks for a missing required input with a dialog", async () => {
		sandbox = createPiSandbox(REVIEW_ANSWERS);
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

	it("refuses a project workflow without --trust-workflows, as headless modes do", async () => {
		sandbox = createPiSandbox(`export const script = (r) => "answer of " + r.stage;`);
		writeProjectWorkflow(sandbox.cwd, "Hello");
		driver = new RpcDriver(sandbox);
		driver.prompt("/workflow run hello");
		expect(await driver.notification(/not trusted yet/)).toContain("--trust-workflows");
		await driver.close();

		driver = new RpcDriver(sandbox, ["--trust-workflows"]);
		driver.prompt("/workflow run hello");
		await driver.notification(/Started workflow "hello"/);
		await driver.waitFor((m) => m.type === "message_end" && JSON.stringify(m).includes("completed"));
		expect(sandbox.calls().filter((call) => call.stage === "greet")).toHaveLength(1);
	});

	it("tells the model when a run it started in the background ends, starting a new turn", async () => {
		sandbox = createPiSandbox(`
export const script = (r) => {
	if (r.stage) return "STAGE(" + r.stage + ")";
	if (/run \\S+ completed/.test(r.lastMessage)) return "MODEL GOT: " + r.lastMessage.split("\\n")[0];
	if (r.afterToolResult) return "waiting for the workflow";
	return { toolCalls: [{ name: "workflow", arguments: { action: "run", spec: { name: "bg", steps: [{ name: "only", prompt: "Work" }] } } }] };
};`);
		driver = new RpcDriver(sandbox);
		driver.prompt("Start the background job");
		const answer = await driver.waitFor(
			(m) => m.type === "message_end" && JSON.stringify(m).includes("MODEL GOT: Workflow"),
		);
		expect(JSON.stringify(answer)).toMatch(/MODEL GOT: Workflow \\"bg\\" run \S+ completed/);
	});
});
