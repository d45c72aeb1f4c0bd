/**
 * One conversation: its stored messages, then `useChat` against Convo's chat protocol
 * (`POST /v1/chat`, resumed on mount through `GET /v1/chat/:id/stream`), so a page
 * reloaded mid-answer picks the answer up where it is and shows it once. Another tab
 * or device that sends in this conversation is followed through the conversation's
 * live stream.
 */
import { useChat } from "@ai-sdk/react";
import { DefaultChatTransport, type UIMessage } from "ai";
import { type FormEvent, type KeyboardEvent, useEffect, useMemo, useRef, useState } from "react";
import { authHeaders, type ConversationDetail, convo, describeError, type StoredMessage } from "../api";
import { useConversations } from "../sidebar/conversations";
import { MessageParts } from "./Parts";

export function ChatPage({ conversationId }: { conversationId: string }) {
  const [detail, setDetail] = useState<ConversationDetail | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    setDetail(null);
    setError(null);
    convo.conversations.get(conversationId, { signal: abort.signal }).then(setDetail, (caught) => {
      if (!abort.signal.aborted) setError(describeError(caught));
    });
    return () => abort.abort();
  }, [conversationId]);

  if (error) {
    return (
      <section className="chat empty" aria-label="Conversation">
        <p role="alert" className="error">
          {error}
        </p>
      </section>
    );
  }
  if (!detail) {
    return (
      <section className="chat empty" aria-label="Conversation" aria-busy="true">
        <p className="muted">Loading the conversation…</p>
      </section>
    );
  }
  return <ChatView key={detail.id} detail={detail} />;
}

/** Stored messages as UI messages (an answer's id is its run's id, as the chat stream names it). */
function toUiMessages(messages: StoredMessage[]): UIMessage[] {
  return messages
    .filter((m) => !m.noise && (m.role === "user" || m.role === "assistant"))
    .map((m) => ({ id: m.id, role: m.role as "user" | "assistant", parts: [{ type: "text", text: m.content }] }));
}

function ChatView({ detail }: { detail: ConversationDetail }) {
  const conversations = useConversations();
  const initial = useMemo(() => toUiMessages(detail.messages), [detail]);
  const transport = useMemo(
    () =>
      new DefaultChatTransport({
        api: "/v1/chat",
        // A function: the credential may change while the page is open.
        headers: () => authHeaders(),
      }),
    [],
  );
  const chat = useChat({
    id: detail.id,
    messages: initial,
    transport,
    resume: true,
    experimental_throttle: 50,
    onFinish: () => void conversations.touch(detail.id),
  });
  const { messages, status, error } = chat;
  const busy = status === "submitted" || status === "streaming";
  const [stopError, setStopError] = useState<string | null>(null);
  const [followError, setFollowError] = useState<string | null>(null);

  // Follow the conversation: a message or a run started elsewhere (another tab, a bot)
  // shows up here; its answer streams in through the chat's resume route.
  const latest = useRef({ messages, status, chat });
  latest.current = { messages, status, chat };
  const lastSeq = detail.messages.at(-1)?.seq ?? 0;
  useEffect(() => {
    const abort = new AbortController();
    const followed = new Set<string>();
    (async () => {
      for await (const item of convo.conversations.follow(detail.id, { afterSeq: lastSeq, signal: abort.signal })) {
        const { messages: now, status: state, chat: helpers } = latest.current;
        const mine = state === "submitted" || state === "streaming";
        if (item.type === "message") {
          const m = item.message;
          if (m.noise || (m.role !== "user" && m.role !== "assistant")) continue;
          const known = now.some((u) => u.id === m.id || (m.clientMessageId && u.id === m.clientMessageId));
          if (known || mine) continue;
          helpers.setMessages([...now, { id: m.id, role: m.role, parts: [{ type: "text", text: m.content }] }]);
          if (m.role === "assistant") void conversations.touch(detail.id);
        } else {
          const runId = item.event.runId;
          if (mine || followed.has(runId) || now.some((u) => u.id === runId)) continue;
          followed.add(runId);
          void helpers.resumeStream();
        }
      }
    })().catch((caught) => {
      // Leaving the conversation aborts the follow: that is no failure to show.
      if (!abort.signal.aborted) setFollowError(`Live updates stopped: ${describeError(caught)}`);
    });
    return () => abort.abort();
  }, [detail.id, lastSeq, conversations.touch]);

  async function stop() {
    setStopError(null);
    try {
      // The run goes on detached from this request: cancel it on the server, then stop reading.
      await convo.chat.stop(detail.id);
    } catch (caught) {
      setStopError(describeError(caught));
    }
    await chat.stop();
  }

  // Keep the newest text in view while it streams, unless the reader scrolled up to read.
  const list = useRef<HTMLOListElement>(null);
  const pinned = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on every change of the messages
  useEffect(() => {
    const el = list.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [messages]);

  const lastAssistant = [...messages].reverse().find((m) => m.role === "assistant");
  return (
    <section className="chat" aria-label={`Conversation ${detail.title ?? ""}`.trim()}>
      <ol
        ref={list}
        className="messages"
        aria-live="polite"
        aria-relevant="additions text"
        aria-busy={busy}
        onScroll={(event) => {
          const el = event.currentTarget;
          pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
        }}
      >
        {messages.length === 0 && <li className="muted pad">Say something to start.</li>}
        {messages.map((message) => (
          <li key={message.id} className={`message ${message.role}`} data-role={message.role} data-message-id={message.id}>
            <span className="visually-hidden">{message.role === "user" ? "You:" : "Assistant:"}</span>
            <MessageParts message={message} streaming={busy && message === messages.at(-1)} />
          </li>
        ))}
        {status === "submitted" && (
          <li className="message assistant pending muted" aria-label="The assistant is answering">
            …
          </li>
        )}
      </ol>
      {followError && (
        <p role="status" className="muted small follow-error">
          {followError}
        </p>
      )}
      {(error || stopError) && (
        <div role="alert" className="error chat-error">
          <span>{stopError ?? describeError(error)}</span>
          {error && (
            <button
              type="button"
              onClick={() => {
                chat.clearError();
                void chat.regenerate();
              }}
            >
              Retry
            </button>
          )}
        </div>
      )}
      <div className="chat-actions">
        {busy ? (
          <button type="button" onClick={stop}>
            Stop
          </button>
        ) : (
          lastAssistant && (
            <button type="button" onClick={() => void chat.regenerate({ messageId: lastAssistant.id })}>
              Regenerate
            </button>
          )
        )}
      </div>
      <Composer disabled={busy} onSend={(text) => void chat.sendMessage({ text })} />
    </section>
  );
}

function Composer({ disabled, onSend }: { disabled: boolean; onSend(text: string): void }) {
  const [text, setText] = useState("");
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const value = text.trim();
    if (!value || disabled) return;
    onSend(value);
    setText("");
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter sends, Shift+Enter is a new line (and IME composition is left alone).
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };
  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor="composer" className="visually-hidden">
        Message
      </label>
      <textarea
        id="composer"
        rows={2}
        placeholder="Message (Enter to send, Shift+Enter for a new line)"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
      />
      <button type="submit" className="primary" disabled={disabled || !text.trim()}>
        Send
      </button>
    </form>
  );
}
