// An Atomic workflow file, unchanged, in a project's .pi/workflows, run by the real `pi` CLI in print mode: it is
// found under the name of its file, imports "@bastani/workflows" and its builtins, and an option pi-workflows does
// not have is refused naming the option and the file.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createPiSandbox, type PiSandbox } from "./support/pi-cli.js";

const SCRIPT = `export const script = (r) => {
	if (r.afterToolResult) return "submitted";
	if (r.stage === "split") return { toolCalls: [{ name: "submit_result", arguments: { parts: ["intro", "body"] } }] };
	if (r.stage === "reviewer-1") return { toolCalls: [{ name: "submit_result", arguments: {
		verdict: "pass", evidence: ["both parts read"], criteria: [{ criterion: "complete", met: true, evidence: "yes" }],
	} }] };
	return "notes on " + r.stage;
};`;

const NOTES_FLOW = `import { workflow } from "@bastani/workflows";
import { verifyClaims } from "@bastani/workflows/builtin";
import { Type } from "typebox";

export default workflow({
	description: "Split the notes, summarize the parts side by side, verify the result",
	inputs: { max_concurrency: Type.Optional(Type.Integer()) },
	outputs: { parts: Type.Integer(), decision: Type.String() },
	run: async (ctx) => {
		const split = await ctx.task("split", {
			task: "Split the notes into parts.",
			schema: Type.Object({ parts: Type.Array(Type.String()) }),
			tools: [],
		});
		await ctx.parallel(
			split.structured.parts.map((part) => ({ name: "summarize-" + part, task: "Summarize " + part, tools: [] })),
			{ concurrency: 2, failFast: false, group: "summaries" },
		);
		const checked = await ctx.workflow(verifyClaims, {
			inputs: { claim: "the summaries are complete", criteria: ["complete"], reviewers: 1 },
		});
		return { parts: split.structured.parts.length, decision: String(checked.outputs.decision) };
	},
});
`;

function runLine(stdout: string): { status: string; report: string } {
	const match = /workflow run \S+ (\S+) (\S+report\.json)/.exec(stdout);
	if (!match) throw new Error(`no summary line in: ${stdout}`);
	return { status: match[1] as string, report: match[2] as string };
}

describe("pi -p runs an Atomic workflow file", () => {
	let sandbox: PiSandbox;
	afterEach(() => sandbox?.cleanup());

	it("under its file's name, with its options, and refuses one it lacks by name and file", async () => {
		sandbox = createPiSandbox(SCRIPT);
		const dir = join(sandbox.cwd, ".pi", "workflows");
		mkdirSync(dir, { recursive: true });
		writeFileSync(join(dir, "notes-flow.ts"), NOTES_FLOW);
		const result = await sandbox.run(["--trust-workflows", "-p", "/workflow run notes-flow max_concurrency=1"]);
		expect(result.stderr).toBe("");
		expect(result.code).toBe(0);
		const line = runLine(result.stdout);
		expect(line.status).toBe("completed");
		const report = JSON.parse(readFileSync(line.report, "utf8"));
		expect(report.workflow).toBe("notes-flow");
		expect(report.outputs).toEqual({ parts: 2, decision: "accepted" });
		const groups = report.stages
			.filter((stage: { id: string }) => stage.id.startsWith("summarize-"))
			.map((stage: { group?: string }) => stage.group);
		expect(groups).toEqual(["summaries", "summaries"]);
		const journal = readFileSync(join(line.report, "..", "journal.jsonl"), "utf8");
		expect(journal).toContain('"concurrency":1');

		const bad = join(dir, "bad-flow.ts");
		writeFileSync(
			bad,
			`import { workflow } from "@bastani/workflows";
export default workflow({ description: "d", database: "postgres://localhost", run: async () => ({}) });`,
		);
		const refused = await sandbox.run(["--trust-workflows", "-p", "/workflow run bad-flow"]);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toContain('unknown option "database"');
		expect(refused.stderr).toContain(bad);
	});
});
