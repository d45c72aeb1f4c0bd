// The browser test's React page: the real `useChat` of @ai-sdk/react with
// DefaultChatTransport against Convo's /v1/chat routes, resuming on mount.
// (Plain JavaScript: a page fixture bundled by esbuild, outside the TypeScript program.)
import { useChat } from "@ai-sdk/react";
import { DefaultChatTransport } from "ai";
import { createElement as h, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

const params = new URLSearchParams(location.hash.slice(1));
const api = params.get("api");
const conversationId = params.get("conversation");
const headers = { authorization: `Bearer ${params.get("token")}` };
const transport = new DefaultChatTransport({ api: `${api}/v1/chat`, headers });

async function loadMessages() {
  const res = await fetch(`${api}/v1/conversations/${conversationId}/messages?limit=200`, { headers });
  const { messages } = await res.json();
  return messages.map((m) => ({ id: m.clientMessageId ?? m.id, role: m.role, parts: [{ type: "text", text: m.content }] }));
}

function Chat({ initial }) {
  const { messages, sendMessage, status } = useChat({ id: conversationId, messages: initial, resume: true, transport });
  useEffect(() => {
    window.send = (text) => sendMessage({ text });
    document.body.dataset.status = status;
  });
  return h(
    "div",
    null,
    messages.map((m) =>
      h(
        "p",
        { key: m.id, "data-id": m.id, "data-role": m.role },
        m.parts
          .filter((p) => p.type === "text")
          .map((p) => p.text)
          .join(""),
      ),
    ),
  );
}

function App() {
  const [initial, setInitial] = useState();
  useEffect(() => {
    loadMessages().then(setInitial);
  }, []);
  return initial ? h(Chat, { initial }) : null;
}

createRoot(document.getElementById("root")).render(h(App));
