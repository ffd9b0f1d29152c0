"""Demo course: demo-instructor grades every registered course, demo-student is enrolled."""
from dlclab.courses.registry import load_courses


def setup_demo(lab) -> None:
    if lab.settings.courses_file is None:
        return
    for course in load_courses(lab.settings.courses_file):
        lab.client.add_to_group(course.instructor_group, ["demo-instructor"])
        lab.client.add_to_group(course.student_group, ["demo-student"])
