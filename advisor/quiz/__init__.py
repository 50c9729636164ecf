"""Exam-style scenario quizzes: a question bank, generated questions, and the quiz itself.

The bank format and its validation live in `bank`, the quiz logic in `session`
(no terminal), the rich front end in `terminal`, questions drawn from the
decision engine's scenario space in `generate`, and the engine taking the quiz
in `auto`.
"""

from advisor.quiz.bank import BUILTIN_BANK, BankError, Question, load_bank, parse_question
from advisor.quiz.session import QuizResult, Response, build_quiz, parse_answer_sheet

__all__ = [
    "BUILTIN_BANK",
    "BankError",
    "Question",
    "QuizResult",
    "Response",
    "build_quiz",
    "load_bank",
    "parse_answer_sheet",
    "parse_question",
]
