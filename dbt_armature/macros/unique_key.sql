{#- A key of several columns is unique: no two rows share all of them. -#}
{% test unique_key(model, columns) %}
select {% for c in columns %}{{ armature.column_name(c) }}, {% endfor %}count(*) as rows_with_key
from {{ model }}
group by {% for c in columns %}{{ armature.column_name(c) }}{{ ", " if not loop.last }}{% endfor %}
having count(*) > 1
{% endtest %}
