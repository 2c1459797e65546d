"""Attention bots: a welcome message and menu, a knowledge base of questions and answers, a matcher,
and the conversation flow that answers first and hands off to an agent."""
