/**
 * The signed-in user's conversations as the sidebar shows them: pages fetched by
 * cursor on demand (endless scroll), newest activity first, and local edits (rename,
 * close, delete, a new message moving one to the top) applied without a refetch.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { type Conversation, convo, describeError } from "../api";

const PAGE = 50;

interface ConversationsValue {
  items: Conversation[];
  total: number;
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  loadMore(): void;
  /** Replaces a conversation (rename, close) or puts it first (new, new activity). */
  upsert(conversation: Conversation, options?: { toTop?: boolean }): void;
  remove(id: string): void;
  /** Re-reads one conversation and moves it to the top (after a message). */
  touch(id: string): Promise<void>;
}

const ConversationsContext = createContext<ConversationsValue | null>(null);

export function ConversationsProvider({ userId, children }: { userId: string; children: ReactNode }) {
  const [items, setItems] = useState<Conversation[]>([]);
  const [total, setTotal] = useState(0);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(true);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inFlight = useRef(false);
  const itemsRef = useRef(items);
  itemsRef.current = items;

  const fetchPage = useCallback(
    async (after: string | null) => {
      if (inFlight.current) return;
      inFlight.current = true;
      setLoading(true);
      try {
        const page = await convo.conversations.list(userId, { limit: PAGE, cursor: after ?? undefined });
        setItems((prev) => {
          const known = new Set(after ? prev.map((c) => c.id) : []);
          return [...(after ? prev : []), ...page.sessions.filter((c) => !known.has(c.id))];
        });
        setTotal(page.total);
        setCursor(page.nextCursor);
        setHasMore(page.hasMore);
        setError(null);
      } catch (caught) {
        setError(describeError(caught));
        setHasMore(false);
      } finally {
        inFlight.current = false;
        setLoading(false);
      }
    },
    [userId],
  );

  useEffect(() => {
    setItems([]);
    void fetchPage(null);
  }, [fetchPage]);

  const loadMore = useCallback(() => {
    if (hasMore && cursor) void fetchPage(cursor);
  }, [fetchPage, hasMore, cursor]);

  const upsert = useCallback((conversation: Conversation, options: { toTop?: boolean } = {}) => {
    if (!itemsRef.current.some((c) => c.id === conversation.id)) setTotal((t) => t + 1);
    setItems((prev) => {
      const at = prev.findIndex((c) => c.id === conversation.id);
      if (at === -1) return [conversation, ...prev];
      if (options.toTop) return [conversation, ...prev.slice(0, at), ...prev.slice(at + 1)];
      const next = prev.slice();
      next[at] = conversation;
      return next;
    });
  }, []);

  const remove = useCallback((id: string) => {
    if (itemsRef.current.some((c) => c.id === id)) setTotal((t) => Math.max(0, t - 1));
    setItems((prev) => prev.filter((c) => c.id !== id));
  }, []);

  const touch = useCallback(
    async (id: string) => {
      try {
        upsert(await convo.conversations.get(id), { toTop: true });
      } catch {
        // The list is only a view: a failed refresh leaves it as it was.
      }
    },
    [upsert],
  );

  const value = useMemo(
    () => ({ items, total, hasMore, loading, error, loadMore, upsert, remove, touch }),
    [items, total, hasMore, loading, error, loadMore, upsert, remove, touch],
  );
  return <ConversationsContext.Provider value={value}>{children}</ConversationsContext.Provider>;
}

export function useConversations(): ConversationsValue {
  const value = useContext(ConversationsContext);
  if (!value) throw new Error("useConversations outside ConversationsProvider");
  return value;
}
