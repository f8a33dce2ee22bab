// One topic's live page: opens ws/topics/<topic>/tail/, prepends records as they arrive
// and keeps the partition table's offsets current (topic.offsets events). The status
// says what is true: live, disconnected from the cluster (retrying), or the error.
// Keys, values and headers arrive pre-rendered (see streams/records.py) and are
// inserted with textContent only, never as HTML.
(function () {
  "use strict";

  const MAX_ROWS = 500;
  const CLOSE_TOPIC_DELETED = 4404;
  const section = document.getElementById("tail");
  if (!section) return;
  const topic = section.dataset.topic;
  const statusEl = document.getElementById("tail-status");
  const rowsEl = document.getElementById("tail-records");
  const partitionsEl = document.getElementById("partition-rows");
  const partitionsStatusEl = document.getElementById("partitions-status");
  let retryDelay = 500;

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function bytesCell(row, rendered) {
    if (rendered === null) {
      cell(row, "null", "null");
      return;
    }
    const td = cell(row, rendered.text, rendered.encoding === "hex" ? "bytes binary" : "bytes");
    let title = rendered.size + " bytes";
    if (rendered.encoding === "hex") title += ", binary (hex)";
    if (rendered.truncated) {
      title += ", truncated";
      td.appendChild(document.createTextNode(" …"));
    }
    td.title = title;
  }

  function headersCell(row, headers) {
    const td = cell(row, "", "headers");
    for (const header of headers) {
      const div = document.createElement("div");
      const value = header.value === null ? "null" : header.value.text;
      div.textContent = header.key + ": " + value;
      td.appendChild(div);
    }
  }

  function showRecord(record) {
    const row = document.createElement("tr");
    row.className = "record";
    row.dataset.partition = record.partition;
    row.dataset.offset = record.offset;
    cell(row, String(record.partition), "num");
    cell(row, String(record.offset), "num");
    const when = record.timestamp === null ? "" : new Date(record.timestamp).toISOString();
    cell(row, when, "timestamp").title = record.timestamp_type || "";
    bytesCell(row, record.key);
    bytesCell(row, record.value);
    headersCell(row, record.headers);
    rowsEl.insertBefore(row, rowsEl.firstChild);
    while (rowsEl.children.length > MAX_ROWS) rowsEl.removeChild(rowsEl.lastChild);
  }

  function setOffsets(partitions) {
    if (!partitionsEl) return;
    for (const [partition, offsets] of Object.entries(partitions)) {
      let row = partitionsEl.querySelector('tr[data-partition="' + partition + '"]');
      if (!row) {  // a partition added since the page was rendered
        row = document.createElement("tr");
        row.dataset.partition = partition;
        cell(row, partition, "num");
        for (const field of ["leader", "replicas", "isr", "log_start_offset", "high_watermark", "record_count"]) {
          const td = cell(row, "?", field === "replicas" || field === "isr" ? "" : "num");
          td.dataset.field = field;
        }
        partitionsEl.appendChild(row);
      }
      const count = offsets.high_watermark - offsets.log_start_offset;
      row.querySelector('[data-field="log_start_offset"]').textContent = String(offsets.log_start_offset);
      row.querySelector('[data-field="high_watermark"]').textContent = String(offsets.high_watermark);
      row.querySelector('[data-field="record_count"]').textContent = String(count);
    }
    if (partitionsStatusEl) partitionsStatusEl.textContent = "live";
  }

  function setPartitionsState(state) {
    const table = document.getElementById("partitions");
    if (table) table.dataset.state = state;
    if (partitionsStatusEl && state === "stale") partitionsStatusEl.textContent = "not updating: disconnected";
  }

  const handlers = {
    "tail.started": (event) => {
      retryDelay = 500;
      const count = Object.keys(event.partitions).length;
      setStatus("live", "live · " + count + " partition" + (count === 1 ? "" : "s"));
    },
    "tail.partitions": (event) => {
      setStatus("live", "live · new partitions " + Object.keys(event.added).join(", "));
    },
    "topic.records": (event) => event.records.forEach(showRecord),
    "topic.offsets": (event) => { setPartitionsState("live"); setOffsets(event.partitions); },
    "tail.disconnected": (event) => { setStatus("disconnected", event.message); setPartitionsState("stale"); },
    "tail.connected": () => { setStatus("live", "live"); setPartitionsState("live"); },
    "tail.error": (event) => { setStatus("error", event.message); setPartitionsState("stale"); },
    "topic.deleted": () => setStatus("closed", "topic deleted"),
  };

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const url = scheme + "//" + window.location.host + "/ws/topics/" +
      encodeURIComponent(topic) + "/tail/";
    const socket = new WebSocket(url);
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      const handler = handlers[event.type];
      if (handler) handler(event);
    };
    socket.onclose = (close) => {
      if (close.code === CLOSE_TOPIC_DELETED) return;
      setPartitionsState("stale");
      if (statusEl.dataset.state !== "error") setStatus("reconnecting", "disconnected, retrying…");
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    };
  }

  connect();
})();
