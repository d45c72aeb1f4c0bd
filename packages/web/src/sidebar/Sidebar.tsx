/**
 * The conversation list: virtualised (only the rows in view are in the DOM, so 10,000
 * conversations scroll like 10), the next page fetched as the end comes into view,
 * with new, inline rename, close and delete (confirmed).
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from "react";
import { Link, useLocation } from "wouter";
import { type Conversation, convo, describeError } from "../api";
import { plural, relativeTime } from "../format";
import { CloseIcon, PencilIcon, TrashIcon } from "../icons";
import { useConversations } from "./conversations";

const ROW_HEIGHT = 68;
const TITLE_MAX = 30;

export function Sidebar({ userId, currentId, onNavigate }: { userId: string; currentId?: string; onNavigate?(): void }) {
  const list = useConversations();
  const [, navigate] = useLocation();
  const [error, setError] = useState<string | null>(null);
  const [toDelete, setToDelete] = useState<Conversation | null>(null);
  const scroller = useRef<HTMLDivElement>(null);

  const count = list.items.length + (list.hasMore ? 1 : 0);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const rows = virtualizer.getVirtualItems();
  const lastRow = rows[rows.length - 1];

  // The loader row came into view: fetch the next page.
  useEffect(() => {
    if (lastRow && lastRow.index >= list.items.length - 1 && list.hasMore && !list.loading) list.loadMore();
  }, [lastRow, list]);

  async function create() {
    setError(null);
    try {
      const conversation = await convo.conversations.create(userId);
      list.upsert(conversation, { toTop: true });
      scroller.current?.scrollTo({ top: 0 });
      navigate(`/c/${conversation.id}`);
      onNavigate?.();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  async function close(conversation: Conversation) {
    setError(null);
    try {
      list.upsert(await convo.conversations.close(conversation.id));
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  return (
    <nav className="sidebar" aria-label="Conversations">
      <div className="sidebar-head">
        <h2 id="conversations-title">
          Conversations <span className="count">{list.total.toLocaleString()}</span>
        </h2>
        <button type="button" className="primary" onClick={create}>
          New conversation
        </button>
      </div>
      {(error || list.error) && (
        <p role="alert" className="error">
          {error ?? list.error}
        </p>
      )}
      {!list.loading && !list.error && list.items.length === 0 && <p className="muted pad">No conversations yet.</p>}
      <div ref={scroller} className="conversation-scroller" data-testid="conversation-scroller">
        <ul
          className="conversation-list"
          aria-labelledby="conversations-title"
          style={{ height: virtualizer.getTotalSize(), position: "relative" }}
        >
          {rows.map((row) => {
            const conversation = list.items[row.index];
            return (
              <li
                key={conversation?.id ?? "loader"}
                aria-setsize={list.hasMore ? -1 : list.items.length}
                aria-posinset={row.index + 1}
                className="conversation-row"
                style={{
                  position: "absolute",
                  top: 0,
                  left: 0,
                  right: 0,
                  height: row.size,
                  transform: `translateY(${row.start}px)`,
                }}
              >
                {conversation ? (
                  <Row
                    conversation={conversation}
                    current={conversation.id === currentId}
                    onOpen={onNavigate}
                    onClose={() => close(conversation)}
                    onDelete={() => setToDelete(conversation)}
                  />
                ) : (
                  <span className="muted pad" aria-live="polite">
                    Loading more…
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      </div>
      {toDelete && (
        <ConfirmDelete
          conversation={toDelete}
          onCancel={() => setToDelete(null)}
          onDeleted={() => {
            list.remove(toDelete.id);
            if (toDelete.id === currentId) navigate("/");
            setToDelete(null);
          }}
        />
      )}
    </nav>
  );
}

const titleOf = (c: Conversation) => c.title || "New conversation";

function Row(props: { conversation: Conversation; current: boolean; onOpen?(): void; onClose(): void; onDelete(): void }) {
  const { conversation, current } = props;
  const [renaming, setRenaming] = useState(false);
  const title = titleOf(conversation);
  return (
    <div className={`conversation ${current ? "current" : ""}`} data-conversation-id={conversation.id}>
      {renaming ? (
        <RenameForm conversation={conversation} onDone={() => setRenaming(false)} />
      ) : (
        <Link
          href={`/c/${conversation.id}`}
          className="conversation-link"
          aria-current={current ? "page" : undefined}
          onClick={props.onOpen}
        >
          <span className="conversation-title">{title}</span>
          <span className="conversation-meta">
            {conversation.isActive && <span className="badge">active</span>}
            <span>{plural(conversation.messageCount, "message", "messages")}</span>
            <time dateTime={conversation.updatedAt} title={new Date(conversation.updatedAt).toLocaleString()}>
              {relativeTime(conversation.updatedAt)}
            </time>
          </span>
        </Link>
      )}
      {!renaming && (
        <span className="conversation-actions">
          <button type="button" className="icon" aria-label={`Rename ${title}`} title="Rename" onClick={() => setRenaming(true)}>
            <PencilIcon />
          </button>
          {conversation.status !== "closed" && (
            <button type="button" className="icon" aria-label={`Close ${title}`} title="Close" onClick={props.onClose}>
              <CloseIcon />
            </button>
          )}
          <button type="button" className="icon danger" aria-label={`Delete ${title}`} title="Delete" onClick={props.onDelete}>
            <TrashIcon />
          </button>
        </span>
      )}
    </div>
  );
}

function RenameForm({ conversation, onDone }: { conversation: Conversation; onDone(): void }) {
  const list = useConversations();
  const [value, setValue] = useState(conversation.title ?? "");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const length = [...value].length;
  const inputId = `rename-${conversation.id}`;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    try {
      // No client-side cap: the server's rule (≤ 30 characters) and its message are the truth.
      list.upsert(await convo.conversations.update(conversation.id, { title: value }));
      onDone();
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  }

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape") onDone();
  };

  return (
    <form className="rename" onSubmit={submit}>
      <label htmlFor={inputId} className="visually-hidden">
        New title
      </label>
      <input
        id={inputId}
        // biome-ignore lint/a11y/noAutofocus: the user asked to rename this row; focus goes where they type
        autoFocus
        value={value}
        onChange={(e) => {
          setValue(e.target.value);
          setError(null);
        }}
        onKeyDown={onKeyDown}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${inputId}-help`}
      />
      <span id={`${inputId}-help`} className={length > TITLE_MAX ? "error small" : "muted small"}>
        {error ? (
          <span role="alert" className="error">
            {error}
          </span>
        ) : (
          `${length}/${TITLE_MAX}`
        )}
      </span>
      <span className="rename-buttons">
        <button type="submit" disabled={busy}>
          Save
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </span>
    </form>
  );
}

function ConfirmDelete({
  conversation,
  onCancel,
  onDeleted,
}: {
  conversation: Conversation;
  onCancel(): void;
  onDeleted(): void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  async function confirm() {
    try {
      await convo.conversations.delete(conversation.id);
      onDeleted();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  return (
    <dialog ref={dialog} className="confirm" aria-labelledby="delete-title" onCancel={onCancel}>
      <h2 id="delete-title">Delete “{titleOf(conversation)}”?</h2>
      <p>Its {plural(conversation.messageCount, "message", "messages")} and runs are deleted with it. This cannot be undone.</p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="row end">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={confirm}>
          Delete
        </button>
      </div>
    </dialog>
  );
}
