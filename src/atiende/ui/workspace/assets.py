"""The few lines of browser code the live pages need (no third-party files): ticking waiting
times, a short notification sound, scrolling the chat to the newest message, and recording voice
notes with ``MediaRecorder`` (handed to a hidden uploader, so they travel like any attachment)."""

from datetime import datetime

from nicegui import ui

SCRIPT = """
<script>
window.atiende = window.atiende || (function () {
  const a = { offset: 0, recorder: null, audio: null };
  a.setNow = (ms) => { a.offset = ms - Date.now(); };
  a.elapsed = (iso) => Math.max(0, Math.floor((Date.now() + a.offset - Date.parse(iso)) / 1000));
  a.duration = (s) => s < 60 ? s + " s" : s < 3600 ? Math.floor(s / 60) + " min"
    : Math.floor(s / 3600) + " h " + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + " min";
  a.tick = () => document.querySelectorAll("[data-since]").forEach((el) => {
    const text = a.duration(a.elapsed(el.dataset.since));
    if (el.textContent !== text) el.textContent = text;
  });
  setInterval(a.tick, 1000);
  a.scrollBottom = (id) => {
    const el = document.getElementById(id);
    if (el) requestAnimationFrame(() => { el.scrollTop = el.scrollHeight; });
  };
  a.beep = () => {
    try {
      const ctx = a.audio || (a.audio = new (window.AudioContext || window.webkitAudioContext)());
      const osc = ctx.createOscillator(); const gain = ctx.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.05;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.15);
    } catch (e) { /* sound is a nicety */ }
  };
  a.startRecording = async (uploaderId, maxSeconds) => {
    if (!navigator.mediaDevices || !window.MediaRecorder) return "unsupported";
    let stream;
    try { stream = await navigator.mediaDevices.getUserMedia({ audio: true }); }
    catch (e) { return "denied"; }
    const type = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus", "audio/webm"]
      .find((t) => MediaRecorder.isTypeSupported(t)) || "";
    const rec = new MediaRecorder(stream, type ? { mimeType: type } : {});
    const chunks = [];
    rec.ondataavailable = (e) => { if (e.data && e.data.size) chunks.push(e.data); };
    rec.onstop = () => {
      stream.getTracks().forEach((t) => t.stop());
      if (rec.cancelled || !chunks.length) return;
      const mime = (rec.mimeType || "audio/webm").split(";")[0];
      const ext = mime.includes("ogg") ? "ogg" : "weba";
      const file = new File([new Blob(chunks, { type: mime })], "nota-de-voz." + ext, { type: mime });
      const uploader = getElement(uploaderId).$refs.qRef;
      uploader.reset(); uploader.addFiles([file]); uploader.upload();
    };
    rec.start();
    a.recorder = rec;
    setTimeout(() => { if (a.recorder === rec) a.stopRecording(false); }, maxSeconds * 1000);
    return "recording";
  };
  a.stopRecording = (cancel) => {
    const rec = a.recorder;
    if (!rec) return;
    rec.cancelled = !!cancel; a.recorder = null; rec.stop();
  };
  a.pickFiles = (uploaderId) => { const u = getElement(uploaderId).$refs.qRef; u.reset(); u.pickFiles(); };
  return a;
})();
</script>
"""


def install(now: datetime) -> None:
    """Adds the script to the page and tells it the server's time (waiting times use it)."""
    ui.add_head_html(SCRIPT)
    ui.add_body_html(f"<script>window.atiende && atiende.setNow({int(now.timestamp() * 1000)});</script>")


def duration(seconds: float) -> str:
    """The same text the browser ticks: "45 s", "12 min", "1 h 05 min"."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def since_label(since: datetime, now: datetime, *, classes: str = "") -> ui.label:
    """A label that shows (and keeps showing, ticking in the browser) the time elapsed since ``since``."""
    label = ui.label(duration((now - since).total_seconds())).classes(classes)
    label.props(f'data-since="{since.isoformat()}"')
    return label
