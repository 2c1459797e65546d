"""How the supervisor's pages fold on tablets and phones (structure only: the board's markup
carries the ``sv-*`` classes). Phones (< 600 px) get one column: the campaign cards scroll
sideways, the queue and agents stack, an agent's controls go under the name, the conversations in
progress become one card per row, and the read-only view puts its details under the thread."""

from nicegui import ui

CSS = """
.sv-grid { grid-template-columns: repeat(auto-fit, minmax(min(340px, 100%), 1fr)); }
.sv-reader-side { width: 300px; flex: none; }
@media (max-width: 599px) {
  .nicegui-content { padding: 0 !important; }
  .sv-cards { flex-wrap: nowrap !important; overflow-x: auto; padding-bottom: 4px; }
  .sv-cards > .q-card { flex: none; }
  .sv-agent { flex-wrap: wrap !important; }
  .sv-agent > .q-item__section--main { flex: 1 1 0; }
  .sv-agent > .q-item__section--side:not(.q-item__section--avatar) { width: 100%; padding-left: 56px;
                                                                     align-items: flex-start; }
  .sv-active thead { display: none; }
  .sv-active tr { display: flex; flex-wrap: wrap; align-items: center; gap: 0 12px;
                  border-bottom: 1px solid rgba(0, 0, 0, .12); padding: 4px 0; }
  .sv-active td { border: 0 !important; height: auto !important; padding: 2px 8px !important; }
  .sv-active td:first-child { width: 100%; }
  .sv-active td:last-child { margin-left: auto; }
  .q-dialog__inner--minimized { padding: 8px !important; }
  .sv-reader-body { flex-direction: column !important; overflow-y: auto; flex-wrap: nowrap !important; }
  .sv-reader-body > .sv-reader-thread { height: auto !important; min-height: 60%; flex: none !important;
                                        overflow-y: visible !important; width: 100%; }
  .sv-reader-side { width: 100%; height: auto !important; overflow-y: visible !important; border-left: 0 !important;
                    border-top: 1px solid #e5e7eb; }
}
"""


def install() -> None:
    ui.add_css(CSS)
