// Control requests for a run owned by another process: a requester drops a request file into the run's
// `control/` folder; the owner watches the folder, applies each request, and answers with a reply file
// next to it. Files are written atomically, so neither side ever reads half a request or reply.

import { existsSync, type FSWatcher, mkdirSync, readdirSync, readFileSync, rmSync, watch } from "node:fs";
import { join } from "node:path";
import { customAlphabet } from "nanoid";
import { writeAtomically } from "./atomic-write.js";

export type ControlRequest =
	| { type: "pause"; reason?: string }
	| { type: "cancel"; reason?: string }
	| { type: "steer"; stageId: string; message: string }
	| { type: "answer"; promptId?: string; value: unknown };

export interface ControlReply {
	ok: boolean;
	/** What happened, or why the request was refused. */
	message: string;
}

/** The owner polls as well as watching, in case a file-system event is missed. */
const POLL_INTERVAL_MS = 1_000;
const requestId = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyz", 10);

function controlDir(runDir: string): string {
	return join(runDir, "control");
}

/** Posts a request and waits for the owner's reply (an error reply when none comes in time). */
export async function sendControlRequest(
	runDir: string,
	request: ControlRequest,
	options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<ControlReply> {
	const dir = controlDir(runDir);
	mkdirSync(dir, { recursive: true });
	const id = `${Date.now().toString(36)}-${requestId()}`;
	const requestFile = join(dir, `${id}.request.json`);
	const replyFile = join(dir, `${id}.reply.json`);
	writeAtomically(requestFile, JSON.stringify(request));
	const deadline = Date.now() + (options.timeoutMs ?? 15_000);
	while (!existsSync(replyFile)) {
		if (Date.now() > deadline || options.signal?.aborted) {
			rmSync(requestFile, { force: true });
			return { ok: false, message: "the process that owns the run did not answer in time" };
		}
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	const reply = JSON.parse(readFileSync(replyFile, "utf8")) as ControlReply;
	rmSync(replyFile, { force: true });
	return reply;
}

/** Watches for requests and applies each once, in the order they were posted. Returns a stop function. */
export function serveControlRequests(
	runDir: string,
	handle: (request: ControlRequest) => ControlReply | Promise<ControlReply>,
): () => void {
	const dir = controlDir(runDir);
	mkdirSync(dir, { recursive: true });
	let busy = false;
	let again = false;
	const drain = async () => {
		if (busy) {
			again = true;
			return;
		}
		busy = true;
		try {
			do {
				again = false;
				for (const name of readdirSync(dir)
					.filter((file) => file.endsWith(".request.json"))
					.sort()) {
					const file = join(dir, name);
					let reply: ControlReply;
					try {
						const request = JSON.parse(readFileSync(file, "utf8")) as ControlRequest;
						reply = await handle(request);
					} catch (error) {
						reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
					}
					rmSync(file, { force: true });
					writeAtomically(file.replace(/\.request\.json$/, ".reply.json"), JSON.stringify(reply));
				}
			} while (again);
		} catch {
			// The folder vanished or a file raced away; the next event or poll tries again.
		} finally {
			busy = false;
		}
	};
	let watcher: FSWatcher | undefined;
	try {
		watcher = watch(dir, () => void drain());
		watcher.on("error", () => undefined);
		watcher.unref();
	} catch {
		watcher = undefined;
	}
	const timer = setInterval(() => void drain(), POLL_INTERVAL_MS);
	timer.unref?.();
	void drain();
	return () => {
		clearInterval(timer);
		watcher?.close();
	};
}
