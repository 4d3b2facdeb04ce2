// End to end with `pi --mode rpc`: a run goes to the background, status sees it running, and the
// completion message arrives when it ends.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createGatedPiSandbox, createPiSandbox, type PiSandbox } from "./support/pi-cli.js";
import { RpcDriver } from "./support/rpc-driver.js";

describe("pi --mode rpc /workflow", () => {
	let sandbox: PiSandbox;
	let driver: RpcDriver | undefined;
	afterEach(async () => {
		await driver?.close();
		sandbox?.cleanup();
	});

	it("returns at once, shows the run running, then completed, and posts the result", async () => {
		const gated = createGatedPiSandbox("scout");
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

	it("asks once before running a project workflow and remembers the file's content", async () => {
		sandbox = createPiSandbox(`export const script = (r) => "answer of " + r.stage;`);
		mkdirSync(join(sandbox.cwd, ".pi/workflows"), { recursive: true });
		const file = join(sandbox.cwd, ".pi/workflows/hello.ts");
		const source = (greeting: string) =>
			[
				'import { workflow } from "pi-workflows";',
				"export default workflow({",
				'  name: "hello", description: "greets", inputs: {}, outputs: {},',
				`  run: async (ctx) => { await ctx.task("greet", { prompt: "${greeting}" }); return {}; },`,
				"});",
			].join("\n");
		writeFileSync(file, source("Hello"));
		driver = new RpcDriver(sandbox);

		driver.prompt("/workflow run hello");
		const confirm = await driver.waitFor((m) => m.type === "extension_ui_request" && m.method === "confirm");
		expect(String(confirm.message)).toContain(".pi/workflows/hello.ts is code from this repository");
		driver.send({ type: "extension_ui_response", id: confirm.id, confirmed: true });
		await driver.notification(/Started workflow "hello"/);
		await driver.waitFor((m) => m.type === "message_end" && JSON.stringify(m).includes("completed"));

		// A second pi process trusts the same content without asking.
		await driver.close();
		driver = new RpcDriver(sandbox);
		driver.prompt("/workflow run hello");
		const next = await driver.waitFor(
			(m) =>
				(m.type === "extension_ui_request" && m.method === "confirm") ||
				(m.method === "notify" && /Started/.test(String(m.message))),
		);
		expect(next.method).toBe("notify");

		// Changed content is asked about again; a "no" runs nothing.
		await driver.close();
		writeFileSync(file, source("Changed"));
		driver = new RpcDriver(sandbox);
		driver.prompt("/workflow run hello");
		const again = await driver.waitFor((m) => m.type === "extension_ui_request" && m.method === "confirm");
		driver.send({ type: "extension_ui_response", id: again.id, confirmed: false });
		expect(await driver.notification(/not trusted/)).toContain("nothing was run");
		expect(sandbox.calls().filter((call) => call.transcript[0]?.includes("Changed"))).toHaveLength(0);
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
