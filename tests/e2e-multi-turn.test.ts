// A multi-turn stage killed between prompts with the real `pi` CLI: the process is killed (SIGKILL) after the
// stage's second prompt finished, and `/workflow resume` in a new process replays the two finished prompts from
// the journal (no model call) and sends only the third, which still sees the whole conversation. The kill
// moment is held by a gate file the workflow waits on, and found by polling the journal, never by sleeping.

import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runPaths, runsRoot } from "../extensions/workflows/store/run-directory.js";
import { journalEvents, label } from "./support/journal-lines.js";
import { createPiSandbox, type PiProcess, type PiSandbox } from "./support/pi-cli.js";

const TEST_TIMEOUT = 120_000;

const SCRIPT = `export const script = (r) => "answer " + r.stageCall + " of " + r.stage;`;

function workflowSource(gate: string): string {
	return `import { existsSync } from "node:fs";
import { workflow } from "pi-workflows";
import { Type } from "typebox";
export default workflow({
	name: "talk",
	description: "three prompts in one conversation, held between the second and the third",
	inputs: {},
	outputs: { last: Type.String() },
	run: async (ctx) => {
		const impl = ctx.stage("impl", { tools: [] });
		await impl.prompt("Write the parser");
		await impl.prompt("Now add tests");
		while (existsSync(${JSON.stringify(gate)})) await new Promise((done) => setTimeout(done, 10));
		const last = await impl.prompt("Summarise what you did");
		await impl.close();
		return { last: last.text };
	},
});
`;
}

/** Polls the disk until `condition` holds; fails early when `watched` exits first. */
async function waitFor(what: string, condition: () => boolean, watched: PiProcess): Promise<void> {
	const deadline = Date.now() + 30_000;
	while (!condition()) {
		if (watched.exited) throw new Error(`pi exited before ${what}:\n${watched.stdout()}\n${watched.stderr()}`);
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((done) => setTimeout(done, 20));
	}
}

describe("a multi-turn stage killed between prompts", () => {
	let sandbox: PiSandbox | undefined;
	afterEach(() => {
		sandbox?.cleanup();
		sandbox = undefined;
	});

	it(
		"resumes in a new process without repeating the finished prompts",
		async () => {
			const box = createPiSandbox(SCRIPT);
			sandbox = box;
			const gate = join(box.root, "closed-between");
			writeFileSync(gate, "");
			mkdirSync(join(box.agentDir, "workflows"), { recursive: true });
			writeFileSync(join(box.agentDir, "workflows", "talk.ts"), workflowSource(gate));

			const first = box.start(["-p", "/workflow run talk"]);
			const root = runsRoot(box.cwd);
			const runIds = () => (existsSync(root) ? readdirSync(root).filter((name) => !name.startsWith(".")) : []);
			await waitFor("the run folder", () => runIds().length === 1, first);
			const runId = runIds()[0] as string;
			const journal = runPaths(box.cwd, runId).journal;
			await waitFor(
				"the second prompt's end",
				() => journalEvents(journal).some((event) => label(event) === "completed impl/2"),
				first,
			);
			first.child.kill("SIGKILL");
			const killed = await first.done;
			expect(killed.signal).toBe("SIGKILL");
			expect(box.calls().map((call) => call.stage)).toEqual(["impl/1", "impl/2"]);

			rmSync(gate);
			const resumed = await box.run(["-p", `/workflow resume ${runId}`]);
			expect(resumed.code, resumed.stderr).toBe(0);
			expect(resumed.stdout).toContain(`workflow run ${runId} completed`);
			// Only the third prompt reached the model; it saw the first two and their answers.
			const calls = box.calls();
			expect(calls.map((call) => call.stage)).toEqual(["impl/1", "impl/2", "impl/3"]);
			const third = calls[2]?.transcript.join("\n") ?? "";
			expect(third).toContain("Write the parser");
			expect(third).toContain("answer 1 of impl/1");
			expect(third).toContain("answer 1 of impl/2");
			const replayed = journalEvents(journal)
				.filter((event) => event.type === "node_replayed")
				.map((event) => event.stageId);
			expect(replayed).toEqual(expect.arrayContaining(["impl/1", "impl/2"]));
		},
		TEST_TIMEOUT,
	);
});
