#!/usr/bin/env python3
"""Writes data/demo/catalog.jsonl: the bilingual lecture catalogue groundrec's demo runs on.

Twelve subjects, eight topics each, every topic taught at three levels: 288 lectures. Each
lecture is in Korean, in English or in both (a fixed, seeded assignment), belongs to the course
"<subject> <level>" (its topics in the order below) and has a teacher. The topic lines were
written for this project. Run from anywhere; the output is deterministic.

    python3 scripts/make_demo_catalog.py [OUT]
"""
import json
import os
import random
import sys

# subject: (English name, Korean name, teachers, topics)
# topic: (English title, Korean title, English detail, Korean detail)
SUBJECTS = [
    ("Mathematics", "수학", ["Kim Minjun", "Alice Park"], [
        ("Fractions", "분수", "adding and subtracting fractions with unlike denominators", "분모가 다른 분수의 덧셈과 뺄셈"),
        ("Decimals and percentages", "소수와 백분율", "converting between decimals, fractions and percentages", "소수, 분수, 백분율 사이의 변환"),
        ("Linear equations", "일차방정식", "solving linear equations and word problems", "일차방정식과 문장제 풀이"),
        ("Quadratic functions", "이차함수", "graphs, vertices and roots of quadratic functions", "이차함수의 그래프와 꼭짓점, 근"),
        ("Triangles and the Pythagorean theorem", "삼각형과 피타고라스 정리", "right triangles, similarity and the Pythagorean theorem", "직각삼각형, 닮음과 피타고라스 정리"),
        ("Probability", "확률", "counting outcomes, independent events and conditional probability", "경우의 수, 독립사건과 조건부확률"),
        ("Sequences and series", "수열과 급수", "arithmetic and geometric sequences and their sums", "등차수열, 등비수열과 그 합"),
        ("Derivatives", "미분", "limits, slopes of curves and rules of differentiation", "극한, 곡선의 기울기와 미분법"),
    ]),
    ("Programming", "프로그래밍", ["Lee Seoyeon", "David Choi"], [
        ("Variables and types", "변수와 자료형", "values, variables and basic data types", "값, 변수와 기본 자료형"),
        ("Conditionals and loops", "조건문과 반복문", "if statements, for loops and while loops", "if 문, for 문과 while 문"),
        ("Functions", "함수", "defining functions, parameters and return values", "함수 정의, 매개변수와 반환값"),
        ("Lists and dictionaries", "리스트와 딕셔너리", "storing collections in lists, maps and sets", "리스트, 딕셔너리, 집합으로 데이터 모으기"),
        ("Object-oriented programming", "객체지향 프로그래밍", "classes, objects, methods and inheritance", "클래스, 객체, 메서드와 상속"),
        ("Recursion", "재귀", "recursive functions and divide and conquer", "재귀 함수와 분할 정복"),
        ("Sorting algorithms", "정렬 알고리즘", "bubble sort, merge sort and quicksort compared", "버블 정렬, 병합 정렬, 퀵 정렬 비교"),
        ("Testing and debugging", "테스트와 디버깅", "unit tests, assertions and finding bugs", "단위 테스트, 단언문과 버그 찾기"),
    ]),
    ("Data science", "데이터 과학", ["Jung Hayoon", "Maria Lopez"], [
        ("Descriptive statistics", "기술 통계", "mean, median, variance and distributions", "평균, 중앙값, 분산과 분포"),
        ("Data visualization", "데이터 시각화", "bar charts, histograms and scatter plots", "막대그래프, 히스토그램, 산점도"),
        ("Data cleaning", "데이터 정제", "missing values, outliers and tidy tables", "결측값, 이상치와 정돈된 표"),
        ("Linear regression", "선형 회귀", "fitting lines, least squares and residuals", "직선 적합, 최소제곱법과 잔차"),
        ("Classification", "분류", "logistic regression, decision trees and accuracy", "로지스틱 회귀, 결정 트리와 정확도"),
        ("Clustering", "군집화", "k-means clustering and grouping similar data", "k-평균 군집화와 비슷한 데이터 묶기"),
        ("Neural networks", "신경망", "perceptrons, layers and training with gradient descent", "퍼셉트론, 층과 경사 하강법 학습"),
        ("Recommender systems", "추천 시스템", "collaborative filtering and sequential recommendation", "협업 필터링과 순차 추천"),
    ]),
    ("English", "영어", ["Emily Brown", "Han Jiwoo"], [
        ("Everyday greetings", "일상 인사", "greetings, introductions and small talk", "인사, 자기소개와 가벼운 대화"),
        ("Present and past tense", "현재 시제와 과거 시제", "verb tenses for daily routines and stories", "일과와 이야기를 위한 동사 시제"),
        ("Pronunciation", "발음", "vowel sounds, stress and intonation", "모음 소리, 강세와 억양"),
        ("Reading comprehension", "독해", "finding the main idea and details in a text", "글의 중심 생각과 세부 내용 찾기"),
        ("Business email", "비즈니스 이메일", "polite requests and replies in business email", "업무 이메일의 정중한 요청과 답장"),
        ("Presentations", "영어 발표", "structuring and delivering a presentation", "발표 구성과 전달"),
        ("Idioms and phrasal verbs", "관용어와 구동사", "common idioms and phrasal verbs in conversation", "대화에 자주 쓰는 관용어와 구동사"),
        ("Essay writing", "에세이 쓰기", "thesis statements, paragraphs and arguments", "주제문, 단락과 논증"),
    ]),
    ("Korean history", "한국사", ["Park Junho", "Choi Yuna"], [
        ("Gojoseon", "고조선", "the first Korean kingdom and its founding myth", "최초의 국가와 건국 신화"),
        ("The Three Kingdoms", "삼국 시대", "Goguryeo, Baekje and Silla", "고구려, 백제, 신라"),
        ("Unified Silla and Balhae", "통일 신라와 발해", "the north-south states period", "남북국 시대"),
        ("Goryeo", "고려", "Buddhism, celadon and the Mongol invasions", "불교, 청자와 몽골의 침입"),
        ("Joseon and Hangul", "조선과 한글", "King Sejong and the creation of Hangul", "세종대왕과 한글 창제"),
        ("The Imjin War", "임진왜란", "Admiral Yi Sun-sin and the turtle ships", "이순신 장군과 거북선"),
        ("The colonial period", "일제 강점기", "occupation and the independence movement", "식민 지배와 독립운동"),
        ("Modern Korea", "현대 한국", "the Korean War, industrialization and democracy", "한국 전쟁, 산업화와 민주화"),
    ]),
    ("Physics", "물리학", ["Oh Sungmin", "James Wilson"], [
        ("Motion and velocity", "운동과 속도", "displacement, velocity and acceleration", "변위, 속도와 가속도"),
        ("Newton's laws", "뉴턴의 법칙", "force, mass and the three laws of motion", "힘, 질량과 운동 법칙"),
        ("Energy and work", "에너지와 일", "kinetic energy, potential energy and conservation", "운동 에너지, 위치 에너지와 보존"),
        ("Waves and sound", "파동과 소리", "frequency, wavelength and sound waves", "진동수, 파장과 음파"),
        ("Light and optics", "빛과 광학", "reflection, refraction and lenses", "반사, 굴절과 렌즈"),
        ("Electricity", "전기", "current, voltage, resistance and circuits", "전류, 전압, 저항과 회로"),
        ("Magnetism", "자기", "magnetic fields, motors and induction", "자기장, 전동기와 전자기 유도"),
        ("Quantum physics", "양자 물리", "photons, atoms and the uncertainty principle", "광자, 원자와 불확정성 원리"),
    ]),
    ("Economics", "경제학", ["Yoon Seojin", "Robert King"], [
        ("Supply and demand", "수요와 공급", "prices, markets and equilibrium", "가격, 시장과 균형"),
        ("Opportunity cost", "기회비용", "choices, scarcity and trade-offs", "선택, 희소성과 맞바꿈"),
        ("Inflation", "인플레이션", "rising prices, money and purchasing power", "물가 상승, 화폐와 구매력"),
        ("Interest rates", "금리", "central banks, loans and saving", "중앙은행, 대출과 저축"),
        ("International trade", "국제 무역", "exports, imports and exchange rates", "수출, 수입과 환율"),
        ("Personal finance", "개인 금융", "budgets, saving and investing basics", "예산, 저축과 투자 기초"),
        ("Stock market", "주식 시장", "shares, indexes and risk", "주식, 지수와 위험"),
        ("Behavioral economics", "행동 경제학", "biases, nudges and decision making", "편향, 넛지와 의사결정"),
    ]),
    ("Music", "음악", ["Kang Eunji", "Sophie Martin"], [
        ("Reading sheet music", "악보 읽기", "notes, rests, clefs and rhythm", "음표, 쉼표, 음자리표와 리듬"),
        ("Scales and keys", "음계와 조성", "major and minor scales and key signatures", "장음계, 단음계와 조표"),
        ("Chords and harmony", "화음과 화성", "triads, chord progressions and harmony", "3화음, 코드 진행과 화성"),
        ("Piano basics", "피아노 기초", "hand position, fingering and simple songs", "손 모양, 운지와 쉬운 곡"),
        ("Guitar basics", "기타 기초", "tuning, strumming and open chords", "조율, 스트로크와 개방 코드"),
        ("Singing", "노래 부르기", "breathing, pitch and vocal warm-ups", "호흡, 음정과 발성 연습"),
        ("Korean traditional music", "국악", "gayageum, pansori and traditional rhythms", "가야금, 판소리와 장단"),
        ("Songwriting", "작곡", "melody, lyrics and song structure", "멜로디, 가사와 곡 구성"),
    ]),
    ("Cooking", "요리", ["Seo Jihoon", "Laura Green"], [
        ("Knife skills", "칼 다루기", "safe cutting, dicing and slicing vegetables", "안전한 칼질, 채소 썰기"),
        ("Rice and soups", "밥과 국", "cooking rice and making clear soups", "밥 짓기와 맑은 국 끓이기"),
        ("Kimchi", "김치", "napa cabbage kimchi and fermentation", "배추김치 담그기와 발효"),
        ("Stir-frying", "볶음 요리", "high heat stir-fry with vegetables and meat", "센 불에 채소와 고기 볶기"),
        ("Baking bread", "빵 굽기", "yeast, kneading and baking bread", "효모, 반죽과 빵 굽기"),
        ("Pasta", "파스타", "fresh pasta and classic sauces", "생면 파스타와 기본 소스"),
        ("Desserts", "디저트", "cakes, cookies and fruit desserts", "케이크, 쿠키와 과일 디저트"),
        ("Healthy meal planning", "건강한 식단", "balanced meals, nutrition and meal prep", "균형 잡힌 식사, 영양과 식단 준비"),
    ]),
    ("Art", "미술", ["Lim Soyeon", "Daniel Moore"], [
        ("Drawing basics", "드로잉 기초", "lines, shapes and shading with pencil", "연필로 선, 형태와 명암 그리기"),
        ("Perspective", "원근법", "one-point and two-point perspective drawing", "1점 투시와 2점 투시 그리기"),
        ("Color theory", "색채 이론", "the color wheel, contrast and harmony", "색상환, 대비와 조화"),
        ("Watercolor", "수채화", "washes, layering and watercolor landscapes", "번지기, 덧칠과 수채 풍경화"),
        ("Portrait drawing", "인물화", "faces, proportions and expressions", "얼굴, 비례와 표정"),
        ("Calligraphy", "서예", "brush strokes and Korean calligraphy", "붓놀림과 한글 서예"),
        ("Digital illustration", "디지털 일러스트", "tablets, layers and digital painting", "태블릿, 레이어와 디지털 채색"),
        ("Art history", "미술사", "from the Renaissance to modern art", "르네상스부터 현대 미술까지"),
    ]),
    ("Biology", "생물학", ["Shin Dahye", "Peter Adams"], [
        ("Cells", "세포", "cell structure, membranes and organelles", "세포 구조, 세포막과 세포 소기관"),
        ("Genetics", "유전", "DNA, genes and heredity", "DNA, 유전자와 유전"),
        ("Evolution", "진화", "natural selection and the history of life", "자연 선택과 생명의 역사"),
        ("Ecology", "생태계", "food chains, habitats and ecosystems", "먹이 사슬, 서식지와 생태계"),
        ("Human body", "인체", "organs, the heart and the nervous system", "기관, 심장과 신경계"),
        ("Plants and photosynthesis", "식물과 광합성", "how plants make food from light", "빛으로 양분을 만드는 식물"),
        ("Microorganisms", "미생물", "bacteria, viruses and the immune system", "세균, 바이러스와 면역"),
        ("Biotechnology", "생명 공학", "gene editing, vaccines and biotechnology", "유전자 편집, 백신과 생명 공학"),
    ]),
    ("Chinese characters", "한자", ["Hwang Mira", "Chen Wei"], [
        ("Radicals", "부수", "the building blocks of Chinese characters", "한자를 이루는 부수"),
        ("Numbers and dates", "숫자와 날짜", "characters for numbers, days and months", "숫자, 요일과 달을 나타내는 한자"),
        ("Nature characters", "자연 한자", "mountain, water, fire, tree and sun", "산, 물, 불, 나무, 해"),
        ("Family and people", "가족과 사람", "characters for family members and people", "가족과 사람을 나타내는 한자"),
        ("Sino-Korean words", "한자어", "Korean vocabulary built from Chinese characters", "한자로 이루어진 우리말 어휘"),
        ("Four-character idioms", "사자성어", "classic four-character idioms and their stories", "사자성어와 그 유래"),
        ("Stroke order", "필순", "writing characters in the right stroke order", "바른 필순으로 한자 쓰기"),
        ("Reading classical texts", "한문 읽기", "short passages from classical texts", "고전 한문 짧은 글 읽기"),
    ]),
]

LEVELS = [
    ("beginner", "초급", "An introduction to", "처음 배우는"),
    ("intermediate", "중급", "Going further with", "한 걸음 더 나아가는"),
    ("advanced", "고급", "Advanced topics in", "깊이 있게 배우는"),
]
# Titles whose first word is a common noun are lower-cased inside a sentence.
COMMON = {w.lower() for w in """Fractions Decimals Linear Quadratic Triangles Probability Sequences
Derivatives Variables Conditionals Functions Lists Object-oriented Recursion Sorting Testing
Descriptive Data Classification Clustering Neural Recommender Everyday Present Pronunciation
Reading Business Presentations Idioms Essay Motion Energy Waves Light Electricity Magnetism
Quantum Supply Opportunity Inflation Interest International Personal Stock Behavioral Scales
Chords Piano Guitar Singing Songwriting Knife Rice Stir-frying Baking Pasta Desserts Healthy
Drawing Perspective Color Watercolor Portrait Calligraphy Digital Art Cells Genetics Evolution
Ecology Human Plants Microorganisms Biotechnology Radicals Numbers Nature Family Four-character
Stroke""".split()}

LEVEL_KO = {"beginner": "초급", "intermediate": "중급", "advanced": "고급"}
LEVEL_DESC_EN = {
    "beginner": "No background needed; short examples and exercises.",
    "intermediate": "Builds on the basics with longer problems and practice.",
    "advanced": "For learners who know the basics; challenging problems and projects.",
}
LEVEL_DESC_KO = {
    "beginner": "기초 지식이 없어도 됩니다. 짧은 예제와 연습 문제로 배웁니다.",
    "intermediate": "기초를 바탕으로 더 긴 문제와 연습을 합니다.",
    "advanced": "기초를 아는 학습자를 위한 어려운 문제와 프로젝트입니다.",
}


def lectures():
    rng = random.Random(20261128)
    n = 0
    for s_en, s_ko, teachers, topics in SUBJECTS:
        for level, _, lead_en, lead_ko in LEVELS:
            for order, (t_en, t_ko, d_en, d_ko) in enumerate(topics):
                n += 1
                lang = rng.choices(["ko", "en", "ko+en"], weights=[4, 4, 2])[0]
                lv_ko = LEVEL_KO[level]
                title_en = "%s (%s)" % (t_en, level)
                title_ko = "%s %s" % (lv_ko, t_ko)
                desc_en = "%s %s: %s. %s course, lesson %d. %s" % (
                    lead_en, t_en[0].lower() + t_en[1:] if t_en.split()[0].lower() in COMMON else t_en, d_en, s_en, order + 1, LEVEL_DESC_EN[level])
                desc_ko = "%s %s: %s. %s %s 과정 %d강. %s" % (
                    lead_ko, t_ko, d_ko, s_ko, lv_ko, order + 1, LEVEL_DESC_KO[level])
                if lang == "ko":
                    title, desc = title_ko, desc_ko
                elif lang == "en":
                    title, desc = title_en, desc_en
                else:
                    title, desc = "%s · %s" % (title_ko, title_en), "%s %s" % (desc_ko, desc_en)
                yield {
                    "id": "L%03d" % n,
                    "title": title,
                    "description": desc,
                    "language": lang,
                    "category": s_en,
                    "teacher": teachers[(order + LEVELS.index((level, _, lead_en, lead_ko))) % 2],
                    "level": level,
                    "course": "%s %s" % (s_en, level),
                    "lesson": order + 1,
                }


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "data", "demo", "catalog.jsonl")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    rows = list(lectures())
    with open(out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print("wrote %d lectures to %s" % (len(rows), out))


if __name__ == "__main__":
    main()
