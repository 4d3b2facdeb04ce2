// Smoke test of interactive Pi in tmux: the widget shows the running stage, then the completion
// message appears in the chat. The screen is read with capture-pane (there is no event to await).

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PI_CLI, type PiSandbox, writeProjectWorkflow } from "./support/pi-cli.js";
import { createGatedReviewSandbox } from "./support/review-script.js";

const SESSION = `pi-workflows-tui-${process.pid}`;

function tmux(...args: string[]): string {
	return execFileSync("tmux", args, { encoding: "utf8" });
}

/** Waits for the screen (with `history` lines of scrollback above it) to show `pattern`. */
async function screenShows(pattern: RegExp, timeoutMs = 30_000, history = 0): Promise<string> {
	const deadline = Date.now() + timeoutMs;
	let screen = "";
	while (Date.now() < deadline) {
		screen = tmux("capture-pane", "-p", "-t", SESSION, ...(history > 0 ? ["-S", `-${history}`] : []));
		if (pattern.test(screen)) return screen;
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	throw new Error(`screen never showed ${pattern}:\n${screen}`);
}

describe("interactive pi (tmux)", () => {
	let sandbox: PiSandbox;
	afterEach(() => {
		try {
			tmux("kill-session", "-t", SESSION);
		} catch {
			// already gone
		}
		sandbox?.cleanup();
	});

	function launchGatedPi(): string {
		const gated = createGatedReviewSandbox();
		sandbox = gated;
		const gate = gated.gate;
		const env = Object.entries(sandbox.env)
			.filter(([key]) => key.startsWith("PI_"))
			.map(([key, value]) => `${key}=${JSON.stringify(value)}`)
			.join(" ");
		const command = `cd ${JSON.stringify(sandbox.cwd)} && env ${env} ${JSON.stringify(process.execPath)} ${JSON.stringify(PI_CLI)} ${sandbox.baseArgs.map((arg) => JSON.stringify(arg)).join(" ")}`;
		tmux("new-session", "-d", "-s", SESSION, "-x", "120", "-y", "40", command);
		return gate;
	}

	function type(text: string): void {
		tmux("send-keys", "-t", SESSION, "-l", text);
		tmux("send-keys", "-t", SESSION, "Enter");
	}

	it("shows the running stage in the widget and the completion message in the chat", async () => {
		const gate = launchGatedPi();
		await screenShows(/scripted/);
		type("/workflow run review-change target=tui");
		const running = await screenShows(/> scout\s+scripted\/fast/);
		expect(running).toMatch(/workflow review-change \S+\s+0 stages done, 1 running/);
		writeFileSync(gate, "");
		const done = await screenShows(/Workflow "review-change" run \S+ completed/);
		expect(done).toContain("answer of synthesis");
		// The end of the run is drawn as a message of its own, not with Pi's raw custom-type label.
		expect(done).not.toContain("[workflow-run]");
	});

	it.each(["/new", "/reload"])("keeps the run through %s and rebinds the widget and message", async (change) => {
		const gate = launchGatedPi();
		await screenShows(/scripted/);
		type("/workflow run review-change target=tui");
		await screenShows(/> scout\s+scripted\/fast/);
		type(change);
		await screenShows(change === "/new" ? /New session/i : /Reloaded/i);
		// The new session's widget shows the same run, still waiting in scout.
		await screenShows(/> scout\s+scripted\/fast/);
		writeFileSync(gate, "");
		const done = await screenShows(/Workflow "review-change" run \S+ completed/);
		expect(done).toContain("answer of synthesis");
	});

	it("asks once per file content before running a project workflow", async () => {
		launchGatedPi();
		const file = writeProjectWorkflow(sandbox.cwd, "Hello");
		await screenShows(/scripted/);
		type("/workflow run hello "); // trailing space: no completion popup to take the Enter
		await screenShows(/Run a project workflow\?/);
		tmux("send-keys", "-t", SESSION, "Enter");
		await screenShows(/Workflow "hello" run \S+ completed/);
		// Same content: no question the second time.
		type("/workflow run hello "); // trailing space: no completion popup to take the Enter
		await screenShows(/Workflow "hello" run \S+ completed[\s\S]*Workflow "hello" run \S+ completed/);
		expect(sandbox.calls().filter((call) => call.stage === "greet")).toHaveLength(2);
		// Changed content asks again; "No" runs nothing.
		writeFileSync(file, readFileSync(file, "utf8").replace("Hello", "Changed"));
		type("/workflow reload ");
		type("/workflow run hello "); // trailing space: no completion popup to take the Enter
		await screenShows(/Run a project workflow\?/);
		tmux("send-keys", "-t", SESSION, "Down");
		tmux("send-keys", "-t", SESSION, "Enter");
		await screenShows(/was not trusted; nothing was run/);
		expect(sandbox.calls().filter((call) => call.stage === "greet")).toHaveLength(2);
	});

	it("keeps the run through /fork and rebinds the widget and message", async () => {
		const gate = launchGatedPi();
		await screenShows(/scripted/);
		type("first message");
		await screenShows(/answer of undefined/);
		type("/workflow run review-change target=tui");
		await screenShows(/> scout\s+scripted\/fast/);
		type("/fork");
		await screenShows(/Fork from Message/);
		tmux("send-keys", "-t", SESSION, "Enter");
		const forked = await screenShows(/Forked to new session/);
		expect(forked).toMatch(/> scout\s+scripted\/fast/);
		writeFileSync(gate, "");
		const done = await screenShows(/Workflow "review-change" run \S+ completed/);
		expect(done).toContain("answer of synthesis");
	});

	it("tells the person a background run waits for an answer, and /workflow answer <run> opens the dialog", async () => {
		launchGatedPi();
		mkdirSync(join(sandbox.agentDir, "workflows"), { recursive: true });
		writeFileSync(
			join(sandbox.agentDir, "workflows", "approve.ts"),
			[
				'import { workflow } from "pi-workflows";',
				'import { Type } from "typebox";',
				"export default workflow({",
				'  name: "approve", description: "plan, ask, implement", inputs: {}, outputs: { result: Type.String() },',
				"  run: async (ctx) => {",
				'    await ctx.task("plan", { prompt: "Plan" });',
				'    if (!(await ctx.ui.confirm("Ship the plan?"))) ctx.cancel("not approved");',
				'    return { result: (await ctx.task("implement", { prompt: "Do it" })).text };',
				"  },",
				"});",
			].join("\n"),
		);
		await screenShows(/scripted/);
		type("/workflow run approve "); // trailing space: no completion popup to take the Enter
		const notice = await screenShows(
			/Workflow run (\S+) waits for your answer \(confirm "confirm"\): Ship the plan\?/,
		);
		const runId = /Workflow run (\S+) waits for your answer/.exec(notice)?.[1] ?? "";
		expect(sandbox.calls().map((call) => call.stage)).toEqual(["plan"]);
		type(`/workflow answer ${runId} `);
		await screenShows(/Workflow run \S+ asks: Ship the plan\?/);
		tmux("send-keys", "-t", SESSION, "Enter"); // the first option: Yes
		const done = await screenShows(/Workflow "approve" run \S+ completed/);
		expect(done).toContain("answer of implement");
	});

	it("Enter runs a fully typed command, outputs stay in the chat under their commands, and a misspelled input asks nothing", async () => {
		launchGatedPi();
		await screenShows(/scripted/);
		// No completion popup takes the Enter of a fully typed subcommand: it runs.
		type("/workflow status");
		await screenShows(/No workflow runs yet\./);
		// A misspelled key is refused at once; no dialog asks for the input it was meant to give.
		type("/workflow run review-change targt=x");
		const refused = await screenShows(/unknown input "targt" \(expected one of: target/);
		expect(refused).not.toMatch(/input "target" \(/);
		// A missing input is asked for, and the dialog says what the input is.
		type("/workflow run review-change "); // trailing space: no completion popup to take the Enter
		await screenShows(/input "target" \(What to review: a diff, a branch or range, PR text, a path; string\)/);
		tmux("send-keys", "-t", SESSION, "Escape");
		await screenShows(/no value for input "target"; nothing was started/);
		type("/workflow list");
		const both = await screenShows(/Workflows:[\s\S]*review-change/);
		// Each output stays, under the command that asked for it; the earlier ones are still on screen.
		expect(both).toContain("/workflow status");
		expect(both).toContain("No workflow runs yet.");
		expect(both).toContain("/workflow run review-change targt=x");
		expect(both).toContain("/workflow list");
		expect(both).not.toContain("[workflow-output]");
	});

	it("/workflow show draws the run's receipt: outcome, the stage table, the graph as text, prompts and answers", async () => {
		const gate = launchGatedPi();
		await screenShows(/scripted/);
		type("/workflow run review-change target=tui");
		await screenShows(/> scout\s+scripted\/fast/);
		writeFileSync(gate, "");
		const done = await screenShows(/Workflow "review-change" run (\S+) completed/);
		const runId = /Workflow "review-change" run (\S+) completed/.exec(done)?.[1] ?? "";
		// The page is longer than the screen (and Pi 1.x keeps no scrollback of it): make the screen tall.
		tmux("resize-window", "-t", SESSION, "-y", "200");
		type(`/workflow show ${runId}`);
		const page = await screenShows(
			new RegExp(`/workflow show ${runId}[\\s\\S]*Prompts and answers[\\s\\S]*### synthesis`),
			30_000,
			300,
		);
		expect(page).toMatch(/Outcome: completed|Outcome: \*\*completed\*\*/);
		expect(page).toContain("┬ 2 in parallel");
		expect(page).toContain("Answer:");
	});

	it("/workflow attach shows a running stage's transcript live, steers it from its line, and Esc returns", async () => {
		const gate = launchGatedPi();
		await screenShows(/scripted/);
		type("/workflow run review-change target=tui");
		const started = await screenShows(/Started workflow "review-change" as run (\S+)\./);
		const runId = /as run (\S+)\./.exec(started)?.[1] ?? "";
		await screenShows(/> scout\s+scripted\/fast/);
		type(`/workflow attach ${runId}`);
		const view = await screenShows(new RegExp(`Attached to stage scout of run ${runId}`));
		expect(view).toContain("Map the context of tui");
		type("look at the parser first");
		await screenShows(/Delivered to stage "scout"/);
		tmux("send-keys", "-t", SESSION, "Escape");
		writeFileSync(gate, "");
		const done = await screenShows(/Workflow "review-change" run \S+ completed/);
		expect(done).not.toContain("Attached to stage");
		// The steer reached the stage: its transcript has it.
		const scout = sandbox.calls().filter((call) => call.stage === "scout");
		expect(scout.some((call) => call.transcript.join("\n").includes("look at the parser first"))).toBe(true);
	});
});
