"""Seeds the local stack with what generated-request testing needs real ids for.

Registers two users, makes a workspace with a channel of every kind and content in each
(messages, a thread, a pin, a task, columns and cards, a document, a pending upload, an
invite, a notification), plus a spare of everything a generated request may delete or
leave, so that deleting operations do not take the others' fixtures away. Prints
`export NAME=value` lines for scripts/fuzz to source. Only the standard library.
"""

import json
import sys
import time
import urllib.error
import urllib.request
import uuid

BASE = sys.argv[1].rstrip("/")


def call(method, path, body=None, token=None, expect=(200, 201, 204)):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    if status not in expect:
        raise SystemExit(f"seed: {method} {path} answered {status}: {raw[:300]!r}")
    return json.loads(raw) if raw else None


def register(name):
    email = f"fuzz-{name}-{uuid.uuid4().hex[:12]}@example.com"
    password = "fuzz-" + uuid.uuid4().hex
    session = call("POST", "/v1/auth/register",
                   {"email": email, "password": password, "display_name": name})
    return session["user"]["id"], session["tokens"]


def main():
    owner_id, owner_tokens = register("owner")
    member_id, member_tokens = register("member")
    spare_id, _ = register("spare")
    owner, member = owner_tokens["access_token"], member_tokens["access_token"]

    def workspace(name):
        made = call("POST", "/v1/workspaces", {"name": name}, owner)
        for user in (member_id, spare_id):
            call("POST", f"/v1/workspaces/{made['id']}/members", {"user_id": user}, owner)
        return made["id"]

    workspace_id = workspace("fuzz")
    spare_workspace_id = workspace("fuzz-spare")
    members_workspace_id = workspace("fuzz-members")

    def channel(name, kind, ws=workspace_id):
        made = call("POST", f"/v1/workspaces/{ws}/channels", {"name": name, "kind": kind}, owner)
        call("POST", f"/v1/channels/{made['id']}/members", {"user_id": member_id}, owner)
        return made["id"]

    chat = channel("fuzz-chat", "chat")
    spare_chat = channel("fuzz-spare", "chat")
    leave_chat = channel("fuzz-leave", "chat")
    members_chat = channel("fuzz-members", "chat")
    todo = channel("fuzz-todo", "todo")
    kanban = channel("fuzz-kanban", "kanban")
    doc = channel("fuzz-doc", "doc")

    def send(channel_id, content, token=owner, parent=None):
        body = {"content": content}
        if parent:
            body["parent_id"] = parent
        return call("POST", f"/v1/channels/{channel_id}/messages", body, token)["id"]

    message = send(chat, "hello fuzz world")
    spare_message = send(chat, "a message to delete")
    send(chat, "a reply", parent=message)
    send(chat, f"<@{owner_id}> look", token=member)
    call("PUT", f"/v1/channels/{chat}/pins/{message}", token=owner)
    call("PUT", f"/v1/channels/{chat}/messages/{message}/reactions/thumbsup", token=owner)

    def task(title):
        return call("POST", f"/v1/channels/{todo}/tasks",
                    {"title": title, "assignee_id": owner_id, "due_date": "2030-01-01"}, owner)["id"]

    task_id, spare_task = task("a task"), task("a task to delete")

    board = call("GET", f"/v1/channels/{kanban}/board", token=owner)
    column_id = board["columns"][0]["id"]
    spare_column = call("POST", f"/v1/channels/{kanban}/columns", {"name": "spare"}, owner)["id"]

    def card(title):
        return call("POST", f"/v1/channels/{kanban}/columns/{column_id}/cards",
                    {"title": title, "assignee_id": owner_id}, owner)["id"]

    card_id, spare_card = card("a card"), card("a card to delete")

    call("PUT", f"/v1/channels/{doc}/document", {"content": "# Fuzz\n", "base_version": 0}, owner)

    def upload():
        return call("POST", f"/v1/channels/{chat}/uploads",
                    {"filename": "notes.txt", "content_type": "text/plain", "size": 12}, owner)["file_id"]

    file_id, spare_file = upload(), upload()

    def invite():
        return call("POST", f"/v1/workspaces/{workspace_id}/invites", {}, owner)["code"]

    invite_code, spare_invite = invite(), invite()

    # The mention above reaches the owner through the table's stream.
    notification_id = None
    for _ in range(120):
        page = call("GET", "/v1/notifications", token=owner)
        if page["items"]:
            notification_id = page["items"][0]["id"]
            break
        time.sleep(0.5)
    if notification_id is None:
        raise SystemExit("seed: the mention's notification never arrived")

    values = {
        "FUZZ_TOKEN": owner,
        "FUZZ_REFRESH_TOKEN": owner_tokens["refresh_token"],
        "FUZZ_SPARE_REFRESH_TOKEN": member_tokens["refresh_token"],
        "FUZZ_OWNER_ID": owner_id,
        "FUZZ_MEMBER_ID": member_id,
        "FUZZ_SPARE_USER_ID": spare_id,
        "FUZZ_WORKSPACE_ID": workspace_id,
        "FUZZ_SPARE_WORKSPACE_ID": spare_workspace_id,
        "FUZZ_MEMBERS_WORKSPACE_ID": members_workspace_id,
        "FUZZ_CHAT_ID": chat,
        "FUZZ_SPARE_CHAT_ID": spare_chat,
        "FUZZ_LEAVE_CHAT_ID": leave_chat,
        "FUZZ_MEMBERS_CHAT_ID": members_chat,
        "FUZZ_TODO_ID": todo,
        "FUZZ_KANBAN_ID": kanban,
        "FUZZ_DOC_ID": doc,
        "FUZZ_MESSAGE_ID": message,
        "FUZZ_SPARE_MESSAGE_ID": spare_message,
        "FUZZ_TASK_ID": task_id,
        "FUZZ_SPARE_TASK_ID": spare_task,
        "FUZZ_COLUMN_ID": column_id,
        "FUZZ_SPARE_COLUMN_ID": spare_column,
        "FUZZ_CARD_ID": card_id,
        "FUZZ_SPARE_CARD_ID": spare_card,
        "FUZZ_FILE_ID": file_id,
        "FUZZ_SPARE_FILE_ID": spare_file,
        "FUZZ_INVITE_CODE": invite_code,
        "FUZZ_SPARE_INVITE_CODE": spare_invite,
        "FUZZ_NOTIFICATION_ID": notification_id,
    }
    for name, value in values.items():
        print(f"export {name}={value}")


if __name__ == "__main__":
    main()
