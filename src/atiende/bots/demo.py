"""The demo's attention bot, "Asistente Demo": fifteen answers of a customer service desk, a menu,
and the handoff to an agent, so a newcomer meets the bot on the demo web chat at once."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.bots import unanswered
from atiende.bots.models import AttentionBot, KnowledgeEntry, UnansweredQuestion
from atiende.kit.columns import utcnow

# (category, question, phrasings, answer, link, follow-up buttons)
ENTRIES: list[tuple[str, str, list[str], str, str | None, list[str]]] = [
    ("General", "¿Cuál es el horario de atención?", ["a qué hora atienden", "días de atención", "horario de oficina"],
     "Nuestros asesores atienden de lunes a viernes de 8:00 a 17:00 (hora de Bogotá). Este asistente responde "
     "a toda hora.", None, []),
    ("General", "¿Dónde están sus oficinas?", ["dirección de la sede", "puntos de atención presencial"],
     "Nuestra sede principal está en la Calle 100 # 10-20, Bogotá, de lunes a viernes de 8:00 a 17:00.", None, []),
    ("Pagos", "¿Cómo pago mi factura?", ["medios de pago", "formas de pagar", "dónde puedo pagar"],
     "Puedes pagar en línea con PSE o tarjeta, en bancos aliados y en corresponsales bancarios con el número "
     "de tu factura.", "https://demo.atiende.app/pagos", ["¿Puedo pagar con tarjeta de crédito?",
                                                         "¿Puedo hacer un acuerdo de pago?"]),
    ("Pagos", "¿Puedo pagar con tarjeta de crédito?", ["pago con tarjeta", "aceptan tarjetas"],
     "Sí, aceptamos Visa, Mastercard y American Express en nuestro portal de pagos.", None, []),
    ("Pagos", "¿Puedo hacer un acuerdo de pago?", ["pagar en cuotas", "financiar la deuda", "diferir el pago"],
     "Sí. Ofrecemos acuerdos de pago de hasta 12 cuotas. Escribe «asesor» y un asesor de cobranza te ayuda a "
     "armarlo.", None, []),
    ("Pagos", "Ya pagué y mi pago no aparece", ["pago no reflejado", "pagué pero sigo en mora"],
     "Los pagos se reflejan en un máximo de 48 horas hábiles. Si pasó ese tiempo, envíanos el comprobante y lo "
     "revisamos.", None, []),
    ("Facturación", "¿Dónde descargo mi factura?", ["copia de la factura", "ver factura en línea"],
     "Descárgala en la sección «Mis facturas» de tu cuenta en línea, en PDF.", "https://demo.atiende.app/facturas",
     []),
    ("Facturación", "¿Cuál es la fecha límite de pago?", ["cuándo vence mi factura", "fecha de vencimiento"],
     "La fecha límite aparece en tu factura; normalmente es el día 15 de cada mes.", None, []),
    ("Facturación", "Me llegó un cobro que no reconozco", ["cobro indebido", "reclamo por cobro"],
     "Lamentamos el inconveniente. Radica tu reclamo en «Mis solicitudes» con el detalle del cobro, o escribe "
     "«asesor» para revisarlo con una persona.", None, []),
    ("Pedidos", "¿Cuál es el estado de mi pedido?", ["dónde está mi pedido", "seguimiento del envío",
                                                     "rastrear mi compra"],
     "Consulta el estado con tu número de pedido en «Mis pedidos». Los envíos en ciudad principal tardan de 1 a "
     "3 días hábiles.", "https://demo.atiende.app/pedidos", []),
    ("Pedidos", "¿Cómo devuelvo un producto?", ["devoluciones", "cambiar un producto", "política de cambios"],
     "Tienes 30 días desde la entrega para devolver un producto sin uso, con su empaque. Solicítalo en «Mis "
     "pedidos» > «Devolver».", None, []),
    ("Pedidos", "¿Qué garantía tienen los productos?", ["garantía", "producto dañado"],
     "Todos los productos tienen 12 meses de garantía por defectos de fábrica. Envíanos fotos del producto y tu "
     "número de pedido.", None, []),
    ("Cuenta", "Olvidé mi contraseña", ["recuperar contraseña", "no puedo entrar a mi cuenta",
                                        "restablecer clave"],
     "Usa «¿Olvidaste tu contraseña?» en la página de ingreso: te enviamos un enlace a tu correo para crear una "
     "nueva.", None, []),
    ("Cuenta", "¿Cómo actualizo mis datos?", ["cambiar mi correo", "cambiar mi dirección", "actualizar teléfono"],
     "Actualiza tus datos en «Mi perfil». Para cambiar el titular de la cuenta escribe «asesor».", None, []),
    ("Cuenta", "¿Cómo cancelo el servicio?", ["dar de baja", "terminar el contrato"],
     "Para cancelar necesitas estar al día en tus pagos. Escribe «asesor» y te guiamos en el proceso.", None, []),
]


UNANSWERED = [("¿Tienen tienda física en Medellín?", 4, 5), ("puedo pagar con nequi", 3, 20),
              ("¿hacen envíos a Ecuador?", 1, 30)]


async def create_demo_bot(session: AsyncSession, client_id: int) -> AttentionBot:
    bot = AttentionBot(
        client_id=client_id, name="Asistente Demo", revision=1, active=True,
        welcome_message="¡Hola! Soy el Asistente Demo. Escribe tu pregunta o elige una opción:",
        fallback_message="No entendí tu pregunta. ¿Puedes escribirla de otra forma? También puedes escribir "
                         "«asesor» para hablar con una persona.",
        handoff_message="Te comunico con un asesor. En un momento te atiende.", menu=[])
    session.add(bot)
    await session.flush()
    entries = [KnowledgeEntry(bot_id=bot.id, category=category, question=question, phrasings=phrasings,
                              answer=answer, link=link, buttons=buttons, active=True)
               for category, question, phrasings, answer, link, buttons in ENTRIES]
    session.add_all(entries)
    await session.flush()
    by_question = {e.question: e.id for e in entries}
    bot.menu = [
        {"label": "Pagos y facturas", "kind": "submenu", "entry_id": None, "options": [
            {"label": "Cómo pagar", "kind": "answer", "entry_id": by_question["¿Cómo pago mi factura?"],
             "options": []},
            {"label": "Descargar mi factura", "kind": "answer", "entry_id": by_question["¿Dónde descargo mi factura?"],
             "options": []},
            {"label": "Acuerdos de pago", "kind": "answer",
             "entry_id": by_question["¿Puedo hacer un acuerdo de pago?"], "options": []}]},
        {"label": "Estado de mi pedido", "kind": "answer", "entry_id": by_question["¿Cuál es el estado de mi pedido?"],
         "options": []},
        {"label": "Horario de atención", "kind": "answer", "entry_id": by_question["¿Cuál es el horario de atención?"],
         "options": []},
        {"label": "Hablar con un asesor", "kind": "handoff", "entry_id": None, "options": []},
    ]
    now = utcnow()
    for text, count, hours_ago in UNANSWERED:  # what customers asked last week, for the admin to teach
        seen = now - timedelta(hours=hours_ago)
        session.add(UnansweredQuestion(bot_id=bot.id, key=unanswered.key_of(text), text=text, count=count,
                                       first_seen_at=seen - timedelta(days=3), last_seen_at=seen))
    return bot
